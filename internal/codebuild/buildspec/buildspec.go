// Package buildspec parses and validates CodeBuild buildspec files (version
// 0.2): env, phases, reports, artifacts, cache and batch. Malformed input gives
// an *Error carrying the statusCode and message CodeBuild reports in the
// DOWNLOAD_SOURCE phase context (YAML_FILE_ERROR "... at line N").
package buildspec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StatusYAMLFileError is the phase context status code of a bad buildspec.
const StatusYAMLFileError = "YAML_FILE_ERROR"

// Error is a buildspec that cannot be used, as CodeBuild words it.
type Error struct {
	StatusCode string // YAML_FILE_ERROR
	Message    string
}

func (e *Error) Error() string { return e.StatusCode + ": " + e.Message }

func yamlErrorf(format string, args ...any) *Error {
	return &Error{StatusCode: StatusYAMLFileError, Message: fmt.Sprintf(format, args...)}
}

// Phase names, in the order they run.
const (
	Install   = "install"
	PreBuild  = "pre_build"
	Build     = "build"
	PostBuild = "post_build"
)

// PhaseNames are the buildspec's phases in run order.
var PhaseNames = []string{Install, PreBuild, Build, PostBuild}

// On-failure actions.
const (
	Abort    = "ABORT"
	Continue = "CONTINUE"
	Retry    = "RETRY"
)

// Spec is a parsed buildspec.
type Spec struct {
	Version   string
	RunAs     string
	Env       Env
	Proxy     Proxy
	Batch     *Batch
	Phases    map[string]*Phase // by phase name; absent phases are nil
	Reports   []Report          // in buildspec order
	Artifacts *Artifacts
	Cache     *Cache
}

// Env is the buildspec's env section.
type Env struct {
	Shell               string
	Variables           []Var
	ParameterStore      []Var
	SecretsManager      []Var
	ExportedVariables   []string
	GitCredentialHelper bool
}

// Var is a name and its value (or, for parameter-store and secrets-manager,
// the reference to resolve).
type Var struct{ Name, Value string }

// Proxy is the buildspec's proxy section.
type Proxy struct{ UploadArtifacts, Logs bool }

// Command is one command with the line it is on.
type Command struct {
	Text string
	Line int
}

// Phase is one of install, pre_build, build and post_build.
type Phase struct {
	Name            string
	RunAs           string
	OnFailure       OnFailure
	RuntimeVersions []Var
	Commands        []Command
	Finally         []Command
}

// OnFailure is what a phase does after a failed command.
type OnFailure struct {
	Action  string // ABORT (default), CONTINUE or RETRY
	Retries int    // for RETRY: how many more attempts (default 3)
	// Pattern, for RETRY-<regex>, limits retries to failures whose output
	// matches it.
	Pattern *regexp.Regexp
}

// Report is one entry of the reports section.
type Report struct {
	Group         string // report group name or ARN
	Files         []string
	BaseDirectory string
	DiscardPaths  bool
	FileFormat    string
}

// Artifacts is the artifacts section, or one secondary artifact.
type Artifacts struct {
	Identifier     string // for secondary artifacts
	Files          []string
	Name           string
	DiscardPaths   bool
	BaseDirectory  string
	ExcludePaths   []string
	EnableSymlinks bool
	S3Prefix       string
	Secondary      []*Artifacts
}

// Cache is the cache section.
type Cache struct {
	Paths        []string
	Key          string
	FallbackKeys []string
	Action       string // "" (restore and save), restore or save
}

// Batch is the batch section; cb-reports runs it.
type Batch struct {
	FastFail    bool
	BuildList   []BatchTask
	BuildGraph  []BatchTask
	BuildMatrix *BuildMatrix
	BuildFanout *BuildFanout
}

// BatchTask is one build of a build-list or build-graph.
type BatchTask struct {
	Identifier    string
	Buildspec     string
	Env           BatchEnv
	DebugSession  bool
	IgnoreFailure bool
	DependOn      []string
}

// BatchEnv overrides a batch build's environment.
type BatchEnv struct {
	ComputeType    string
	Fleet          string
	Image          string
	PrivilegedMode bool
	Type           string
	Variables      []Var
}

// BuildMatrix is a build-matrix: a static part shared by all builds and the
// dynamic dimensions that multiply.
type BuildMatrix struct {
	Static  BatchTask
	Dynamic MatrixDimensions
}

// MatrixDimensions are the values a build-matrix combines.
type MatrixDimensions struct {
	Buildspec   []string
	ComputeType []string
	Image       []string
	Variables   []MatrixVar
}

// MatrixVar is one variable dimension of a build-matrix.
type MatrixVar struct {
	Name   string
	Values []string
}

// BuildFanout is a build-fanout (test splitting).
type BuildFanout struct {
	Parallelism   int
	IgnoreFailure bool
}

// Parse reads a buildspec.
func Parse(data []byte) (*Spec, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, syntaxError(err)
	}
	if len(doc.Content) == 0 {
		return nil, yamlErrorf("YAML file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, yamlErrorf("Expected buildspec to be of map type: found %s instead at line %d", kindName(root), root.Line)
	}
	p := parser{}
	s := p.spec(root)
	if p.err != nil {
		return nil, p.err
	}
	return s, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError words a YAML syntax error the way CodeBuild does: the message,
// then "at line N".
func syntaxError(err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return yamlErrorf("%s at line %s", m[2], m[1])
	}
	return yamlErrorf("%s", strings.TrimPrefix(msg, "yaml: "))
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "subkeys"
	case yaml.SequenceNode:
		return "sequence"
	default:
		return "string"
	}
}

// parser walks the document, keeping the first error.
type parser struct{ err *Error }

func (p *parser) fail(e *Error) {
	if p.err == nil {
		p.err = e
	}
}

// entries are a mapping's keys and values in order.
func (p *parser) entries(n *yaml.Node, what string) []kv {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.fail(yamlErrorf("Expected %s to be of map type: found %s instead at line %d", what, kindName(n), n.Line))
		return nil
	}
	var out []kv
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, kv{key: n.Content[i].Value, node: n.Content[i+1], line: n.Content[i].Line})
	}
	return out
}

type kv struct {
	key  string
	node *yaml.Node
	line int
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (p *parser) str(n *yaml.Node, what string) string {
	if n == nil || isNull(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.fail(yamlErrorf("Expected %s to be of string type: found %s instead at line %d, value of the key tag on line %d might be empty", what, kindName(n), n.Line, n.Line-1))
		return ""
	}
	return n.Value
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	v := strings.ToLower(p.str(n, what))
	switch v {
	case "", "no", "false", "off":
		return false
	case "yes", "true", "on":
		return true
	}
	p.fail(yamlErrorf("Expected %s to be of bool type: found %q instead at line %d", what, n.Value, n.Line))
	return false
}

// strs is a list of strings; a single string counts as a list of one, as
// CodeBuild accepts for files and paths.
func (p *parser) strs(n *yaml.Node, what string) []string {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(yamlErrorf("Expected %s to be of list type: found %s instead at line %d", what, kindName(n), n.Line))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, p.str(c, fmt.Sprintf("%s[%d]", what, i)))
	}
	return out
}

func (p *parser) commands(n *yaml.Node, what string) []Command {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []Command{{Text: n.Value, Line: n.Line}}
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(yamlErrorf("Expected %s to be of list type: found %s instead at line %d", what, kindName(n), n.Line))
		return nil
	}
	out := make([]Command, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, Command{Text: p.str(c, fmt.Sprintf("%s[%d]", what, i)), Line: c.Line})
	}
	return out
}

func (p *parser) vars(n *yaml.Node, what string) []Var {
	var out []Var
	for _, e := range p.entries(n, what) {
		out = append(out, Var{Name: e.key, Value: p.str(e.node, what+"."+e.key)})
	}
	return out
}

func (p *parser) spec(root *yaml.Node) *Spec {
	s := &Spec{Phases: map[string]*Phase{}}
	for _, e := range p.entries(root, "buildspec") {
		switch e.key {
		case "version":
			s.Version = p.str(e.node, "version")
		case "run-as":
			s.RunAs = p.str(e.node, "run-as")
		case "env":
			s.Env = p.env(e.node)
		case "proxy":
			for _, pe := range p.entries(e.node, "proxy") {
				switch pe.key {
				case "upload-artifacts":
					s.Proxy.UploadArtifacts = p.boolean(pe.node, "proxy.upload-artifacts")
				case "logs":
					s.Proxy.Logs = p.boolean(pe.node, "proxy.logs")
				}
			}
		case "batch":
			s.Batch = p.batch(e.node)
		case "phases":
			p.phases(s, e.node)
		case "reports":
			for _, re := range p.entries(e.node, "reports") {
				s.Reports = append(s.Reports, p.report(re))
			}
		case "artifacts":
			s.Artifacts = p.artifacts(e.node, "artifacts", "")
			if s.Artifacts != nil {
				for _, se := range p.entries(mapValue(e.node, "secondary-artifacts"), "secondary-artifacts") {
					s.Artifacts.Secondary = append(s.Artifacts.Secondary, p.artifacts(se.node, "secondary-artifacts."+se.key, se.key))
				}
			}
		case "cache":
			s.Cache = p.cache(e.node)
		}
	}
	if p.err != nil {
		return s
	}
	switch s.Version {
	case "":
		p.fail(yamlErrorf("version key is missing"))
	case "0.1", "0.2":
	default:
		p.fail(yamlErrorf("invalid buildspec version: %s", s.Version))
	}
	return s
}

// mapValue is the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (p *parser) env(n *yaml.Node) Env {
	var env Env
	for _, e := range p.entries(n, "env") {
		switch e.key {
		case "shell":
			env.Shell = p.str(e.node, "env.shell")
			switch env.Shell {
			case "", "bash", "/bin/sh", "sh", "powershell.exe", "cmd.exe", "pwsh.exe":
			default:
				p.fail(yamlErrorf("invalid shell type %q at line %d", env.Shell, e.node.Line))
			}
		case "variables":
			env.Variables = p.vars(e.node, "env.variables")
		case "parameter-store":
			env.ParameterStore = p.vars(e.node, "env.parameter-store")
		case "secrets-manager":
			env.SecretsManager = p.vars(e.node, "env.secrets-manager")
		case "exported-variables":
			env.ExportedVariables = p.strs(e.node, "env.exported-variables")
		case "git-credential-helper":
			env.GitCredentialHelper = p.boolean(e.node, "env.git-credential-helper")
		}
	}
	return env
}

func (p *parser) phases(s *Spec, n *yaml.Node) {
	for _, e := range p.entries(n, "phases") {
		name := e.key
		known := false
		for _, k := range PhaseNames {
			known = known || k == name
		}
		if !known {
			p.fail(yamlErrorf("unknown phase %s at line %d", name, e.line))
			return
		}
		ph := &Phase{Name: name, OnFailure: OnFailure{Action: Abort}}
		for _, pe := range p.entries(e.node, name) {
			switch pe.key {
			case "run-as":
				ph.RunAs = p.str(pe.node, name+".run-as")
			case "on-failure":
				ph.OnFailure = p.onFailure(pe.node)
			case "runtime-versions":
				if name != Install {
					p.fail(yamlErrorf("runtime-versions is only allowed in the install phase, found in %s at line %d", name, pe.line))
				}
				ph.RuntimeVersions = p.vars(pe.node, name+".runtime-versions")
			case "commands":
				ph.Commands = p.commands(pe.node, "Commands")
			case "finally":
				ph.Finally = p.commands(pe.node, "Finally")
			}
		}
		s.Phases[name] = ph
	}
}

var retryForm = regexp.MustCompile(`^RETRY(?:-(\d+))?(?:-(.+))?$`)

// onFailure parses ABORT, CONTINUE, RETRY, RETRY-<count>, RETRY-<regex> and
// RETRY-<count>-<regex>.
func (p *parser) onFailure(n *yaml.Node) OnFailure {
	v := p.str(n, "on-failure")
	switch v {
	case Abort, Continue:
		return OnFailure{Action: v}
	}
	if m := retryForm.FindStringSubmatch(v); m != nil {
		f := OnFailure{Action: Retry, Retries: 3}
		if m[1] != "" {
			count, _ := strconv.Atoi(m[1])
			if count > 100 {
				p.fail(yamlErrorf("invalid retry count %d in on-failure at line %d: must be between 0 and 100", count, n.Line))
			}
			f.Retries = count
		}
		if m[2] != "" {
			re, err := regexp.Compile(m[2])
			if err != nil {
				p.fail(yamlErrorf("invalid regular expression %q in on-failure at line %d", m[2], n.Line))
			}
			f.Pattern = re
		}
		return f
	}
	p.fail(yamlErrorf("invalid on-failure value %q at line %d: must be ABORT, CONTINUE or RETRY", v, n.Line))
	return OnFailure{Action: Abort}
}

func (p *parser) report(e kv) Report {
	r := Report{Group: e.key, FileFormat: "JUNITXML"}
	what := "reports." + e.key
	for _, re := range p.entries(e.node, what) {
		switch re.key {
		case "files":
			r.Files = p.strs(re.node, what+".files")
		case "base-directory":
			r.BaseDirectory = p.str(re.node, what+".base-directory")
		case "discard-paths":
			r.DiscardPaths = p.boolean(re.node, what+".discard-paths")
		case "file-format":
			r.FileFormat = strings.ToUpper(p.str(re.node, what+".file-format"))
			switch r.FileFormat {
			case "JUNITXML", "CUCUMBERJSON", "NUNITXML", "NUNIT3XML", "TESTNGXML", "VISUALSTUDIOTRX",
				"CLOVERXML", "COBERTURAXML", "JACOCOXML", "SIMPLECOV":
			default:
				p.fail(yamlErrorf("invalid file-format %s for report group %s at line %d", r.FileFormat, e.key, re.node.Line))
			}
		}
	}
	if len(r.Files) == 0 && p.err == nil {
		p.fail(yamlErrorf("files key is missing for report group %s at line %d", e.key, e.line))
	}
	return r
}

func (p *parser) artifacts(n *yaml.Node, what, identifier string) *Artifacts {
	if n == nil || isNull(n) {
		return nil
	}
	a := &Artifacts{Identifier: identifier}
	hasFiles := false
	for _, e := range p.entries(n, what) {
		switch e.key {
		case "files":
			hasFiles = true
			a.Files = p.strs(e.node, what+".files")
		case "name":
			a.Name = p.str(e.node, what+".name")
		case "discard-paths":
			a.DiscardPaths = p.boolean(e.node, what+".discard-paths")
		case "base-directory":
			a.BaseDirectory = p.str(e.node, what+".base-directory")
		case "exclude-paths":
			a.ExcludePaths = p.strs(e.node, what+".exclude-paths")
		case "enable-symlinks":
			a.EnableSymlinks = p.boolean(e.node, what+".enable-symlinks")
		case "s3-prefix":
			a.S3Prefix = p.str(e.node, what+".s3-prefix")
		}
	}
	// The primary artifacts may hold only secondary-artifacts.
	if !hasFiles && p.err == nil && (identifier != "" || mapValue(n, "secondary-artifacts") == nil) {
		p.fail(yamlErrorf("files key is missing in %s at line %d", what, n.Line))
	}
	return a
}

func (p *parser) cache(n *yaml.Node) *Cache {
	if n == nil || isNull(n) {
		return nil
	}
	c := &Cache{}
	for _, e := range p.entries(n, "cache") {
		switch e.key {
		case "paths":
			c.Paths = p.strs(e.node, "cache.paths")
		case "key":
			c.Key = p.str(e.node, "cache.key")
		case "fallback-keys":
			c.FallbackKeys = p.strs(e.node, "cache.fallback-keys")
			if len(c.FallbackKeys) > 5 {
				p.fail(yamlErrorf("cache.fallback-keys allows at most 5 keys, found %d at line %d", len(c.FallbackKeys), e.node.Line))
			}
		case "action":
			c.Action = p.str(e.node, "cache.action")
			if c.Action != "restore" && c.Action != "save" {
				p.fail(yamlErrorf("invalid cache action %q at line %d: must be restore or save", c.Action, e.node.Line))
			}
		}
	}
	return c
}

func (p *parser) batch(n *yaml.Node) *Batch {
	b := &Batch{}
	for _, e := range p.entries(n, "batch") {
		switch e.key {
		case "fast-fail":
			b.FastFail = p.boolean(e.node, "batch.fast-fail")
		case "build-list":
			b.BuildList = p.tasks(e.node, "batch.build-list")
		case "build-graph":
			b.BuildGraph = p.tasks(e.node, "batch.build-graph")
		case "build-matrix":
			b.BuildMatrix = p.matrix(e.node)
		case "build-fanout":
			b.BuildFanout = &BuildFanout{}
			for _, fe := range p.entries(e.node, "batch.build-fanout") {
				switch fe.key {
				case "parallelism":
					b.BuildFanout.Parallelism = p.integer(fe.node, "batch.build-fanout.parallelism")
				case "ignore-failure":
					b.BuildFanout.IgnoreFailure = p.boolean(fe.node, "batch.build-fanout.ignore-failure")
				}
			}
		}
	}
	return b
}

func (p *parser) integer(n *yaml.Node, what string) int {
	v := p.str(n, what)
	i, err := strconv.Atoi(v)
	if err != nil && p.err == nil {
		p.fail(yamlErrorf("Expected %s to be of int type: found %q instead at line %d", what, v, n.Line))
	}
	return i
}

func (p *parser) tasks(n *yaml.Node, what string) []BatchTask {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(yamlErrorf("Expected %s to be of list type: found %s instead at line %d", what, kindName(n), n.Line))
		return nil
	}
	var out []BatchTask
	for i, c := range n.Content {
		t := p.task(c, fmt.Sprintf("%s[%d]", what, i))
		if t.Identifier == "" && p.err == nil {
			p.fail(yamlErrorf("identifier is missing in %s[%d] at line %d", what, i, c.Line))
		}
		out = append(out, t)
	}
	return out
}

func (p *parser) task(n *yaml.Node, what string) BatchTask {
	var t BatchTask
	for _, e := range p.entries(n, what) {
		switch e.key {
		case "identifier":
			t.Identifier = p.str(e.node, what+".identifier")
		case "buildspec":
			t.Buildspec = p.str(e.node, what+".buildspec")
		case "env":
			t.Env = p.batchEnv(e.node, what+".env")
		case "debug-session":
			t.DebugSession = p.boolean(e.node, what+".debug-session")
		case "ignore-failure":
			t.IgnoreFailure = p.boolean(e.node, what+".ignore-failure")
		case "depend-on":
			t.DependOn = p.strs(e.node, what+".depend-on")
		}
	}
	return t
}

func (p *parser) batchEnv(n *yaml.Node, what string) BatchEnv {
	var env BatchEnv
	for _, e := range p.entries(n, what) {
		switch e.key {
		case "compute-type":
			env.ComputeType = p.str(e.node, what+".compute-type")
		case "fleet":
			env.Fleet = p.str(e.node, what+".fleet")
		case "image":
			env.Image = p.str(e.node, what+".image")
		case "privileged-mode":
			env.PrivilegedMode = p.boolean(e.node, what+".privileged-mode")
		case "type":
			env.Type = p.str(e.node, what+".type")
		case "variables":
			env.Variables = p.vars(e.node, what+".variables")
		}
	}
	return env
}

func (p *parser) matrix(n *yaml.Node) *BuildMatrix {
	m := &BuildMatrix{}
	for _, e := range p.entries(n, "batch.build-matrix") {
		switch e.key {
		case "static":
			m.Static = p.task(e.node, "batch.build-matrix.static")
		case "dynamic":
			for _, de := range p.entries(e.node, "batch.build-matrix.dynamic") {
				what := "batch.build-matrix.dynamic." + de.key
				switch de.key {
				case "buildspec":
					m.Dynamic.Buildspec = p.strs(de.node, what)
				case "env":
					for _, ee := range p.entries(de.node, what) {
						switch ee.key {
						case "compute-type":
							m.Dynamic.ComputeType = p.strs(ee.node, what+".compute-type")
						case "image":
							m.Dynamic.Image = p.strs(ee.node, what+".image")
						case "variables":
							for _, ve := range p.entries(ee.node, what+".variables") {
								m.Dynamic.Variables = append(m.Dynamic.Variables, MatrixVar{Name: ve.key, Values: p.strs(ve.node, what+".variables."+ve.key)})
							}
						}
					}
				}
			}
		}
	}
	return m
}

// ParseSecretRef splits a secrets-manager reference
// secret-id:json-key:version-stage:version-id. The secret-id may be an ARN,
// which holds colons itself.
func ParseSecretRef(ref string) (secretID, jsonKey, versionStage, versionID string) {
	var rest string
	if strings.HasPrefix(ref, "arn:") {
		// arn:partition:secretsmanager:region:account:secret:name
		parts := strings.SplitN(ref, ":", 8)
		if len(parts) < 7 {
			return ref, "", "", ""
		}
		secretID = strings.Join(parts[:7], ":")
		if len(parts) == 8 {
			rest = parts[7]
		}
	} else {
		secretID, rest, _ = strings.Cut(ref, ":")
	}
	fields := strings.SplitN(rest, ":", 3)
	for len(fields) < 3 {
		fields = append(fields, "")
	}
	return secretID, fields[0], fields[1], fields[2]
}
