package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"overcast/internal/codebuild/buildspec"
	"overcast/internal/docker"
)

// Phase context status codes.
const (
	codeClientError      = "CLIENT_ERROR"
	codeCommandError     = "COMMAND_EXECUTION_ERROR"
	codeTimedOut         = "BUILD_TIMED_OUT"
	codeStopped          = "BUILD_STOPPED"
	codeParameterError   = "Decrypted Variables Error"
	codeSecretsError     = "Secrets Manager Error"
	defaultBuildspecFile = "buildspec.yml"
)

var errTimedOut = errors.New("build timed out")

// outcome is how a phase ended.
type outcome struct {
	status  string
	context PhaseContext
}

var succeeded = outcome{status: StatusSucceeded}

func failed(code, format string, args ...any) outcome {
	return outcome{status: StatusFailed, context: PhaseContext{StatusCode: code, Message: fmt.Sprintf(format, args...)}}
}

// build is one run of Runner.Run.
type build struct {
	r   *Runner
	b   Build
	h   Hooks
	o   Observer
	ctx context.Context // ends on timeout or stop

	spec          *buildspec.Spec
	sess          *session
	containerID   string
	detach        func() // ends what Build.AttachNetwork set up
	srcRoot       string // /codebuild/output/src<digits>
	srcDir        string // CODEBUILD_SRC_DIR
	shell         string
	succeeding    bool
	download      <-chan downloaded // the sources, downloading since the build began
	downloadTaken bool
	masked        []string // parameter and secret values the log hides
	result        Result
}

func (r *Runner) run(ctx context.Context, b Build, h Hooks, o Observer) (Result, error) {
	if b.WorkDir == "" {
		return Result{}, errors.New("runner: the build has no WorkDir")
	}
	if b.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, b.Timeout, errTimedOut)
		defer cancel()
	}
	srcRoot := fmt.Sprintf("%s/src%d", outputDir, 100000000+rand.IntN(900000000))
	x := &build{r: r, b: b, h: h, o: o, ctx: ctx, srcRoot: srcRoot, srcDir: srcRoot + "/src",
		shell: "/bin/sh", succeeding: true, result: Result{ArtifactLocations: map[string]string{}}}
	defer x.cleanup()

	x.logf("Running on overcast CodeBuild")
	// The sources download while the container starts: each takes a good
	// part of a second, and the first command waits for both.
	downloadCtx, cancelDownload := context.WithCancel(ctx)
	x.download = x.startDownload(downloadCtx)
	defer func() {
		// The caller removes WorkDir once Run returns: no download may
		// still be writing into it.
		cancelDownload()
		if !x.downloadTaken {
			<-x.download
		}
	}()
	ok := x.phase(PhaseProvisioning, x.provision)
	ok = ok && x.phase(PhaseDownloadSource, x.downloadSource)
	if ok {
		x.commandPhases()
	}
	x.phase(PhaseFinalizing, x.finalize)

	x.result.Status = StatusSucceeded
	for _, p := range x.result.Phases {
		if p.Status != StatusSucceeded {
			x.result.Status = p.Status
			break
		}
	}
	return x.result, nil
}

// commandPhases runs INSTALL through UPLOAD_ARTIFACTS with CodeBuild's
// transitions: a failed INSTALL or PRE_BUILD ends the build (on to
// FINALIZING); a failed BUILD still runs POST_BUILD with
// CODEBUILD_BUILD_SUCCEEDING=0; UPLOAD_ARTIFACTS is attempted whenever
// POST_BUILD was reached. on-failure CONTINUE goes on as if the phase had
// passed, the build still failing.
func (x *build) commandPhases() {
	for _, name := range buildspec.PhaseNames {
		ph := x.spec.Phases[name]
		typ := strings.ToUpper(name)
		st := x.phaseStatus(typ, func() outcome { return x.commandPhase(ph) })
		if st == StatusSucceeded {
			continue
		}
		x.succeeding = false
		if st == StatusTimedOut || st == StatusStopped || st == StatusFault {
			return
		}
		if ph != nil && ph.OnFailure.Action == buildspec.Continue {
			continue
		}
		if name == buildspec.Install || name == buildspec.PreBuild {
			return
		}
	}
	x.phase(PhaseUploadArtifacts, x.uploadArtifacts)
}

// phase runs one phase, reporting its start and end, and says whether it
// succeeded.
func (x *build) phase(typ string, run func() outcome) bool {
	return x.phaseStatus(typ, run) == StatusSucceeded
}

func (x *build) phaseStatus(typ string, run func() outcome) string {
	start := x.r.now()
	x.o.Phase(Phase{Type: typ, Start: start})
	switch typ {
	case PhaseProvisioning:
		x.logf("Waiting for agent ping")
	case PhaseDownloadSource:
		x.logf("Waiting for DOWNLOAD_SOURCE")
		x.logf("Phase is DOWNLOAD_SOURCE")
	default:
		x.logf("Entering phase %s", typ)
	}
	out := run()
	if out.status == StatusFailed && x.ctx.Err() != nil {
		out = x.interrupted()
	}
	p := Phase{Type: typ, Status: out.status, Start: start, End: x.r.now()}
	if out.context != (PhaseContext{}) {
		p.Contexts = []PhaseContext{out.context}
	}
	if typ != PhaseProvisioning && typ != PhaseFinalizing {
		x.logf("Phase complete: %s State: %s", typ, out.status)
		x.logf("Phase context status code: %s Message: %s", out.context.StatusCode, out.context.Message)
	}
	x.result.Phases = append(x.result.Phases, p)
	x.o.Phase(p)
	return out.status
}

// interrupted is the outcome of a phase the build's context ended.
func (x *build) interrupted() outcome {
	if errors.Is(context.Cause(x.ctx), errTimedOut) {
		return outcome{status: StatusTimedOut, context: PhaseContext{StatusCode: codeTimedOut, Message: "Build has timed out. "}}
	}
	return outcome{status: StatusStopped, context: PhaseContext{StatusCode: codeStopped, Message: "Build was stopped. "}}
}

// logf writes a [Container] line.
func (x *build) logf(format string, args ...any) {
	line := "[Container] " + x.r.now().UTC().Format("2006/01/02 15:04:05.000000") + " " + fmt.Sprintf(format, args...) + "\n"
	x.o.Log([]byte(line))
}

// output logs a line of a command's output, secrets masked.
func (x *build) output(text string) {
	for _, secret := range x.masked {
		text = strings.ReplaceAll(text, secret, "***")
	}
	x.o.Log([]byte(text + "\n"))
}

func (x *build) hostPath(containerPath string) string {
	return filepath.Join(x.b.WorkDir, strings.TrimPrefix(containerPath, outputDir))
}

func (x *build) provision() outcome {
	ctx := x.ctx
	if x.b.ImageNote != "" {
		x.logf("%s", x.b.ImageNote)
	}
	if _, err := x.r.engine.EnsureImage(ctx, x.b.Image); err != nil {
		return failed(codeClientError, "CannotPullContainerError: %v", err)
	}
	for _, dir := range []string{"tmp", "readonly"} {
		if err := os.MkdirAll(filepath.Join(x.b.WorkDir, dir), 0o777); err != nil {
			return outcome{status: StatusFault, context: PhaseContext{StatusCode: codeClientError, Message: err.Error()}}
		}
	}
	exited := make(chan struct{})
	sess, err := newSession(x.hostPath(tmpDir), exited)
	if err != nil {
		return outcome{status: StatusFault, context: PhaseContext{StatusCode: codeClientError, Message: err.Error()}}
	}
	x.sess = sess
	mounts := []docker.Mount{
		{Type: docker.MountBind, Source: x.b.WorkDir, Target: outputDir},
		{Type: docker.MountBind, Source: filepath.Join(x.b.WorkDir, "readonly"), Target: readonlyDir, ReadOnly: true},
	}
	if dir := x.localCacheDir(); dir != "" {
		mounts = append(mounts, docker.Mount{Type: docker.MountBind, Source: dir, Target: localCacheMount})
	}
	for _, m := range x.b.Mounts {
		mounts = append(mounts, docker.Mount{Type: docker.MountBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	env := maps.Clone(x.b.System)
	if env == nil {
		env = map[string]string{}
	}
	id, err := x.r.engine.CreateContainer(ctx, docker.ContainerSpec{
		Owner:       x.r.owner,
		Labels:      x.b.Labels,
		Image:       x.b.Image,
		Entrypoint:  []string{"/bin/sh", agentScript},
		Env:         env,
		User:        "0",
		Mounts:      mounts,
		NetworkMode: x.b.Network,
		ExtraHosts:  x.b.ExtraHosts,
		Init:        true, // reaps the builds' background processes
	})
	if err != nil {
		return failed(codeClientError, "%v", err)
	}
	x.containerID = id
	if err := x.r.engine.StartContainer(ctx, id); err != nil {
		return failed(codeClientError, "%v", err)
	}
	go func() {
		x.r.engine.WaitContainer(context.WithoutCancel(ctx), id)
		close(exited)
	}()
	return x.attachNetwork()
}

// downloaded is how the sources' download ended.
type downloaded struct {
	sources Sources
	err     error
}

// startDownload makes the source directories and downloads the sources
// into them in the background.
func (x *build) startDownload(ctx context.Context) <-chan downloaded {
	done := make(chan downloaded, 1)
	dirs := map[string]string{"": x.hostPath(x.srcDir)}
	for _, id := range x.b.SecondarySources {
		dirs[id] = x.hostPath(x.srcRoot + "/" + id)
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			done <- downloaded{err: err}
			return done
		}
	}
	go func() {
		sources, err := x.h.DownloadSource(ctx, dirs)
		done <- downloaded{sources, err}
	}()
	return done
}

func (x *build) downloadSource() outcome {
	x.logf("CODEBUILD_SRC_DIR=%s", x.srcDir)
	var d downloaded
	select {
	case d = <-x.download:
		x.downloadTaken = true
	case <-x.ctx.Done():
		return x.interrupted()
	}
	if d.err != nil {
		return failed(codeClientError, "%v", d.err)
	}
	x.result.ResolvedSourceVersion = d.sources.ResolvedVersions[""]

	if out := x.readBuildspec(); out.status != StatusSucceeded {
		return out
	}
	x.logf("Processing environment variables")
	env, out := x.environment()
	if out.status != StatusSucceeded {
		return out
	}
	if install := x.spec.Phases[buildspec.Install]; install != nil {
		for _, rv := range install.RuntimeVersions {
			x.logf("Selecting '%s' runtime version '%s' based on manual selections...", rv.Name, rv.Value)
		}
	}
	if err := x.writeEnv(env); err != nil {
		return outcome{status: StatusFault, context: PhaseContext{StatusCode: codeClientError, Message: err.Error()}}
	}
	x.logf("Moving to directory %s", x.srcDir)
	if out := x.restoreCache(); out.status != StatusSucceeded {
		return out
	}
	x.gitURLs()
	if x.spec.Env.GitCredentialHelper {
		x.gitCredentialHelper()
	}
	var found []string
	for _, name := range buildspec.PhaseNames {
		if ph := x.spec.Phases[name]; ph != nil {
			found = append(found, fmt.Sprintf(" %s: %d commands", strings.ToUpper(name), len(ph.Commands)))
		}
	}
	x.logf("Phases found in YAML: %d", len(found))
	for _, f := range found {
		x.logf("%s", f)
	}
	return succeeded
}

func (x *build) readBuildspec() outcome {
	data := []byte(x.b.Buildspec)
	location := readonlyDir + "/buildspec.yml"
	if x.b.Buildspec == "" {
		name := x.b.BuildspecFile
		if name == "" {
			name = defaultBuildspecFile
		}
		location = x.srcDir + "/" + strings.TrimPrefix(name, "/")
		var err error
		if !filepath.IsLocal(name) {
			err = os.ErrNotExist
		} else {
			data, err = os.ReadFile(filepath.Join(x.hostPath(x.srcDir), name))
		}
		x.logf("YAML location is %s", location)
		if err != nil {
			return failed(buildspec.StatusYAMLFileError, "YAML file does not exist")
		}
	} else {
		os.WriteFile(filepath.Join(x.b.WorkDir, "readonly", "buildspec.yml"), data, 0o644)
		x.logf("YAML location is %s", location)
	}
	spec, err := buildspec.Parse(data)
	if err != nil {
		var e *buildspec.Error
		if errors.As(err, &e) {
			return failed(e.StatusCode, "%s", e.Message)
		}
		return failed(buildspec.StatusYAMLFileError, "%v", err)
	}
	x.spec = spec
	switch spec.Env.Shell {
	case "bash":
		x.shell = "bash"
	case "", "sh", "/bin/sh":
	default:
		return failed(buildspec.StatusYAMLFileError, "shell %s is not supported on Linux", spec.Env.Shell)
	}
	return succeeded
}

// environment is the build's starting environment, lowest precedence
// first: the service's variables, the buildspec's variables,
// parameter-store and secrets-manager, the project's and StartBuild's,
// then the ones the runner owns.
func (x *build) environment() ([][2]string, outcome) {
	var env [][2]string
	set := func(name, value string) { env = append(env, [2]string{name, value}) }
	for _, k := range slices.Sorted(maps.Keys(x.b.System)) {
		set(k, x.b.System[k])
	}
	for _, v := range x.spec.Env.Variables {
		set(v.Name, v.Value)
	}
	var vars []EnvVar
	for _, v := range x.spec.Env.ParameterStore {
		vars = append(vars, EnvVar{Name: v.Name, Value: v.Value, Type: EnvParameterStore})
	}
	for _, v := range x.spec.Env.SecretsManager {
		vars = append(vars, EnvVar{Name: v.Name, Value: v.Value, Type: EnvSecretsManager})
	}
	for _, v := range append(vars, x.b.Env...) {
		value, out := x.resolve(v)
		if out.status != StatusSucceeded {
			return nil, out
		}
		set(v.Name, value)
	}
	// Defaults for what the service did not say (e.g. local builds).
	defaults := map[string]string{
		"CODEBUILD_BUILD_IMAGE":  x.b.Image,
		"CODEBUILD_BUILD_ID":     x.b.ID,
		"CODEBUILD_BUILD_ARN":    x.b.ARN,
		"CODEBUILD_BUILD_NUMBER": strconv.FormatInt(x.b.Number, 10),
		"CODEBUILD_START_TIME":   strconv.FormatInt(x.r.now().UnixMilli(), 10),
		"CODEBUILD_LOG_PATH":     strings.TrimPrefix(x.b.ID, x.b.Project+":"),
		"CODEBUILD_INITIATOR":    "user",
	}
	for _, k := range slices.Sorted(maps.Keys(defaults)) {
		if _, given := x.b.System[k]; !given {
			set(k, defaults[k])
		}
	}
	// The variables only the runner knows.
	set("CODEBUILD_SRC_DIR", x.srcDir)
	for _, id := range x.b.SecondarySources {
		set("CODEBUILD_SRC_DIR_"+id, x.srcRoot+"/"+id)
	}
	set("CODEBUILD_RESOLVED_SOURCE_VERSION", x.result.ResolvedSourceVersion)
	return env, succeeded
}

// resolve is a variable's value: PARAMETER_STORE and SECRETS_MANAGER ones
// are looked up through the hooks, and masked in the log from then on, as
// CodeBuild does.
func (x *build) resolve(v EnvVar) (string, outcome) {
	var value string
	var err error
	switch v.Type {
	case EnvParameterStore:
		if value, err = x.h.Parameter(x.ctx, v.Value); err != nil {
			return "", failed(codeParameterError, "%v", err)
		}
	case EnvSecretsManager:
		if value, err = x.secret(v.Value); err != nil {
			return "", failed(codeSecretsError, "%v", err)
		}
	default:
		return v.Value, succeeded
	}
	if strings.TrimSpace(value) != "" {
		x.masked = append(x.masked, value)
	}
	return value, succeeded
}

func (x *build) secret(ref string) (string, error) {
	id, key, stage, version := buildspec.ParseSecretRef(ref)
	return x.h.Secret(x.ctx, SecretRef{SecretID: id, JSONKey: key, VersionStage: stage, VersionID: version})
}

// writeEnv writes the first env.sh: the environment and the source
// directory, which each command's script restores and saves again.
func (x *build) writeEnv(env [][2]string) error {
	var sb strings.Builder
	for _, kv := range env {
		if !validName(kv[0]) {
			continue
		}
		fmt.Fprintf(&sb, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	fmt.Fprintf(&sb, "cd %s\n", shellQuote(x.srcDir))
	// Commands that run-as another user rewrite env.sh too; the scripts
	// rewrite it in place, which keeps this mode.
	path := x.hostPath(envFile)
	if err := os.WriteFile(path, []byte(sb.String()), 0o666); err != nil {
		return err
	}
	return os.Chmod(path, 0o666)
}

func validName(s string) bool {
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// commandPhase runs a buildspec phase: its commands, then its finally
// commands whatever happened, retrying per on-failure RETRY.
func (x *build) commandPhase(ph *buildspec.Phase) outcome {
	if ph == nil {
		return succeeded
	}
	user := ph.RunAs
	if user == "" {
		user = x.spec.RunAs
	}
	before := x.succeeding
	for attempt := 0; ; attempt++ {
		x.succeeding = before
		out := x.commands(ph.Commands, user)
		if out.status == StatusTimedOut || out.status == StatusStopped {
			return out
		}
		// The finally commands of a failing phase see the build failing.
		if out.status != StatusSucceeded {
			x.succeeding = false
		}
		if fin := x.commands(ph.Finally, user); out.status == StatusSucceeded {
			out = fin
		}
		f := ph.OnFailure
		if out.status != StatusFailed || f.Action != buildspec.Retry || attempt >= f.Retries ||
			f.Pattern != nil && !f.Pattern.MatchString(out.context.Message) {
			return out
		}
		x.logf("Phase failed; retrying %s (attempt %d of %d)", strings.ToUpper(ph.Name), attempt+2, f.Retries+1)
	}
}

// commands runs commands one by one; the first failure skips the rest.
func (x *build) commands(cmds []buildspec.Command, user string) outcome {
	for _, c := range cmds {
		x.logf("Running command %s", c.Text)
		status, err := x.exec(user, c.Text)
		if err != nil {
			if x.ctx.Err() != nil {
				return x.interrupted()
			}
			return outcome{status: StatusFault, context: PhaseContext{StatusCode: codeClientError, Message: err.Error()}}
		}
		if status != 0 {
			x.logf("Command did not exit successfully %s exit status %d", c.Text, status)
			return failed(codeCommandError, "Error while executing command: %s. Reason: exit status %d", c.Text, status)
		}
	}
	return succeeded
}

// exec runs one buildspec command the way CodeBuild does: a script of its
// own that starts from the environment and directory the previous command
// left (env.sh) and saves them again when it exits, whatever way it exits.
// set -a exports every variable the command assigns, so plain assignments
// carry over; shell state that cannot be exported (functions, arrays) does
// not. The trap writes env.sh in place rather than renaming a new file: a
// mv would be a second process per command, doubling its overhead.
func (x *build) exec(user, command string) (int, error) {
	succeeding := "1"
	if !x.succeeding {
		succeeding = "0"
	}
	save := "trap '{ export -p; printf \"cd %s\\n\" \"'\\''$PWD'\\''\"; } >" + envFile + " 2>/dev/null' EXIT\n"
	if x.spec.Version == "0.1" {
		save = "" // version 0.1: every command starts from the build's first environment
	}
	script := "set -a\n" +
		". " + envFile + " >/dev/null 2>&1\n" +
		"CODEBUILD_BUILD_SUCCEEDING=" + succeeding + "\n" +
		save +
		command + "\n"
	if err := x.sess.writeScript("script.sh", script); err != nil {
		return 0, err
	}
	return x.sess.run(x.ctx, runAsUser(user), x.shell, commandFile, x.output)
}

func runAsUser(user string) string {
	if user == "root" {
		return ""
	}
	return user
}

// internal runs a script of the runner's own in the build's environment
// and returns its output.
func (x *build) internal(ctx context.Context, body string) (string, int, error) {
	script := "set -a\n. " + envFile + " >/dev/null 2>&1\nset +a\n" + body + "\n"
	if err := x.sess.writeScript("internal.sh", script); err != nil {
		return "", 0, err
	}
	var sb strings.Builder
	status, err := x.sess.run(ctx, "", "/bin/sh", internalFile, func(s string) { sb.WriteString(s + "\n") })
	return sb.String(), status, err
}

// gitCredentialHelper points git at the aws CLI's CodeCommit credential
// helper (env git-credential-helper: yes), as CodeBuild does; an image
// without git is left as it is.
func (x *build) gitCredentialHelper() {
	_, status, err := x.internal(x.ctx, `command -v git >/dev/null 2>&1 || exit 0
git config --global credential.helper '!aws codecommit credential-helper $@' &&
git config --global credential.UseHttpPath true`)
	if err != nil || status != 0 {
		x.logf("Unable to set up the git credential helper: exit status %d %v", status, err)
		return
	}
	x.logf("Set up the git credential helper")
}

// gitURLs has git in the build rewrite the URLs of Build.GitURLs. An
// image without git is left as it is.
func (x *build) gitURLs() {
	if len(x.b.GitURLs) == 0 {
		return
	}
	var script strings.Builder
	script.WriteString("command -v git >/dev/null 2>&1 || exit 0\n")
	for _, from := range slices.Sorted(maps.Keys(x.b.GitURLs)) {
		to := shellQuote("url." + x.b.GitURLs[from] + ".insteadOf")
		fmt.Fprintf(&script, "git config --system %s %s 2>/dev/null || git config --global %[1]s %[2]s || exit 1\n", to, shellQuote(from))
	}
	if _, status, err := x.internal(x.ctx, script.String()); err != nil || status != 0 {
		x.logf("Unable to point git at the build's endpoint: exit status %d %v", status, err)
	}
}

// expand shell-expands s in the build's environment, as CodeBuild does for
// artifact names and cache keys.
func (x *build) expand(s string) (string, error) {
	out, status, err := x.internal(x.ctx, "eval \"printf '%s' \\\""+strings.ReplaceAll(s, `"`, `\"`)+"\\\"\"")
	if err == nil && status != 0 {
		err = fmt.Errorf("expanding %q: exit status %d", s, status)
	}
	return strings.TrimSuffix(out, "\n"), err
}

// finalize collects the exported variables and removes the container.
func (x *build) finalize() outcome {
	if x.sess != nil && x.spec != nil && len(x.spec.Env.ExportedVariables) > 0 {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(x.ctx), 30*time.Second)
		defer cancel()
		var body strings.Builder
		for _, name := range x.spec.Env.ExportedVariables {
			if x.exportable(name) {
				fmt.Fprintf(&body, "printf '%%s\\0' \"${%s-}\" | tr '\\n\\0' '\\036\\n'\n", name)
			}
		}
		out, _, err := x.internal(ctx, body.String())
		if err == nil {
			values := strings.Split(out, "\n")
			i := 0
			for _, name := range x.spec.Env.ExportedVariables {
				if !x.exportable(name) || i >= len(values) {
					continue
				}
				value := strings.ReplaceAll(values[i], "\036", "\n")
				i++
				x.result.ExportedVariables = append(x.result.ExportedVariables, EnvVar{Name: name, Value: value, Type: EnvPlaintext})
			}
		}
	}
	x.cleanup()
	return succeeded
}

// exportable says whether a variable may be exported: neither AWS_*
// variables nor secrets may.
func (x *build) exportable(name string) bool {
	if !validName(name) || strings.HasPrefix(name, "AWS_") {
		return false
	}
	for _, v := range x.spec.Env.SecretsManager {
		if v.Name == name {
			return false
		}
	}
	for _, v := range x.b.Env {
		if v.Name == name && v.Type == EnvSecretsManager {
			return false
		}
	}
	return true
}

// cleanup removes the container; it runs once.
func (x *build) cleanup() {
	if x.detach != nil {
		x.detach()
		x.detach = nil
	}
	if x.containerID != "" {
		x.r.engine.RemoveContainer(context.WithoutCancel(x.ctx), x.containerID, docker.RemoveOptions{Force: true, Volumes: true})
		x.containerID = ""
	}
	if x.sess != nil {
		x.sess.close()
		x.sess = nil
	}
}
