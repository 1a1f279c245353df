// Package buildspec parses and validates CodeBuild buildspec files (version
// 0.2): env, phases, reports, artifacts, cache and batch. Malformed input gives
// an *Error carrying the statusCode and message CodeBuild reports in the
// DOWNLOAD_SOURCE phase context (YAML_FILE_ERROR "... at line N").
package buildspec

import (
	"fmt"
	"regexp"
	"slices"
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
	if !p.holds(n, yaml.MappingNode, "map", what) {
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

// holds reports whether n holds a value of kind (named typ in the error),
// failing the parse when it holds another; an absent or null value holds
// none, and is no fault.
func (p *parser) holds(n *yaml.Node, kind yaml.Kind, typ, what string) bool {
	if n == nil || isNull(n) {
		return false
	}
	if n.Kind != kind {
		p.fail(yamlErrorf("Expected %s to be of %s type: found %s instead at line %d", what, typ, kindName(n), n.Line))
		return false
	}
	return true
}

// listOf is a list's items, each made by item of its node and path; a
// single scalar counts as a list of one, as CodeBuild accepts for files,
// paths and commands.
func listOf[T any](p *parser, n *yaml.Node, what string, item func(n *yaml.Node, what string) T) []T {
	if n != nil && n.Kind == yaml.ScalarNode && !isNull(n) {
		return []T{item(n, what)}
	}
	if !p.holds(n, yaml.SequenceNode, "list", what) {
		return nil
	}
	out := make([]T, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, item(c, fmt.Sprintf("%s[%d]", what, i)))
	}
	return out
}

// strs is a list of strings.
func (p *parser) strs(n *yaml.Node, what string) []string { return listOf(p, n, what, p.str) }

func (p *parser) commands(n *yaml.Node, what string) []Command {
	return listOf(p, n, what, func(c *yaml.Node, what string) Command { return Command{Text: p.str(c, what), Line: c.Line} })
}

func (p *parser) vars(n *yaml.Node, what string) []Var {
	var out []Var
	for _, e := range p.entries(n, what) {
		out = append(out, Var{Name: e.key, Value: p.str(e.node, what+"."+e.key)})
	}
	return out
}

// field reads one key's value into a field of the section being parsed;
// what names the value in errors.
type field func(p *parser, n *yaml.Node, what string)

func text(dst *string) field {
	return func(p *parser, n *yaml.Node, what string) { *dst = p.str(n, what) }
}

func flag(dst *bool) field {
	return func(p *parser, n *yaml.Node, what string) { *dst = p.boolean(n, what) }
}

func list(dst *[]string) field {
	return func(p *parser, n *yaml.Node, what string) { *dst = p.strs(n, what) }
}

func variables(dst *[]Var) field {
	return func(p *parser, n *yaml.Node, what string) { *dst = p.vars(n, what) }
}

func number(dst *int) field {
	return func(p *parser, n *yaml.Node, what string) { *dst = p.integer(n, what) }
}

// fields reads the mapping n's known keys with their field readers;
// unknown keys are ignored, as CodeBuild does.
func (p *parser) fields(n *yaml.Node, what string, fields map[string]field) {
	for _, e := range p.entries(n, what) {
		if read, ok := fields[e.key]; ok {
			read(p, e.node, what+"."+e.key)
		}
	}
}

func (p *parser) spec(root *yaml.Node) *Spec {
	s := &Spec{Phases: map[string]*Phase{}}
	p.fields(root, "buildspec", map[string]field{
		"version": func(p *parser, n *yaml.Node, _ string) { s.Version = p.str(n, "version") },
		"run-as":  func(p *parser, n *yaml.Node, _ string) { s.RunAs = p.str(n, "run-as") },
		"env":     func(p *parser, n *yaml.Node, _ string) { s.Env = p.env(n) },
		"proxy": func(p *parser, n *yaml.Node, _ string) {
			p.fields(n, "proxy", map[string]field{
				"upload-artifacts": flag(&s.Proxy.UploadArtifacts),
				"logs":             flag(&s.Proxy.Logs),
			})
		},
		"batch":  func(p *parser, n *yaml.Node, _ string) { s.Batch = p.batch(n) },
		"phases": func(p *parser, n *yaml.Node, _ string) { p.phases(s, n) },
		"reports": func(p *parser, n *yaml.Node, _ string) {
			for _, e := range p.entries(n, "reports") {
				s.Reports = append(s.Reports, p.report(e))
			}
		},
		"artifacts": func(p *parser, n *yaml.Node, _ string) {
			if s.Artifacts = p.artifacts(n, "artifacts", ""); s.Artifacts == nil {
				return
			}
			for _, e := range p.entries(mapValue(n, "secondary-artifacts"), "secondary-artifacts") {
				s.Artifacts.Secondary = append(s.Artifacts.Secondary, p.artifacts(e.node, "secondary-artifacts."+e.key, e.key))
			}
		},
		"cache": func(p *parser, n *yaml.Node, _ string) { s.Cache = p.cache(n) },
	})
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
	p.fields(n, "env", map[string]field{
		"shell": func(p *parser, n *yaml.Node, what string) {
			env.Shell = p.str(n, what)
			switch env.Shell {
			case "", "bash", "/bin/sh", "sh", "powershell.exe", "cmd.exe", "pwsh.exe":
			default:
				p.fail(yamlErrorf("invalid shell type %q at line %d", env.Shell, n.Line))
			}
		},
		"variables":             variables(&env.Variables),
		"parameter-store":       variables(&env.ParameterStore),
		"secrets-manager":       variables(&env.SecretsManager),
		"exported-variables":    list(&env.ExportedVariables),
		"git-credential-helper": flag(&env.GitCredentialHelper),
	})
	return env
}

func (p *parser) phases(s *Spec, n *yaml.Node) {
	for _, e := range p.entries(n, "phases") {
		name := e.key
		if !slices.Contains(PhaseNames, name) {
			p.fail(yamlErrorf("unknown phase %s at line %d", name, e.line))
			return
		}
		ph := &Phase{Name: name, OnFailure: OnFailure{Action: Abort}}
		p.fields(e.node, name, map[string]field{
			"run-as":     text(&ph.RunAs),
			"on-failure": func(p *parser, n *yaml.Node, _ string) { ph.OnFailure = p.onFailure(n) },
			"runtime-versions": func(p *parser, n *yaml.Node, what string) {
				if name != Install {
					p.fail(yamlErrorf("runtime-versions is only allowed in the install phase, found in %s at line %d", name, n.Line-1))
				}
				ph.RuntimeVersions = p.vars(n, what)
			},
			// CodeBuild names commands this way in its errors.
			"commands": func(p *parser, n *yaml.Node, _ string) { ph.Commands = p.commands(n, "Commands") },
			"finally":  func(p *parser, n *yaml.Node, _ string) { ph.Finally = p.commands(n, "Finally") },
		})
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

// reportFormats are the test and coverage report formats CodeBuild reads.
var reportFormats = []string{"JUNITXML", "CUCUMBERJSON", "NUNITXML", "NUNIT3XML", "TESTNGXML", "VISUALSTUDIOTRX",
	"CLOVERXML", "COBERTURAXML", "JACOCOXML", "SIMPLECOV"}

func (p *parser) report(e kv) Report {
	r := Report{Group: e.key, FileFormat: "JUNITXML"}
	p.fields(e.node, "reports."+e.key, map[string]field{
		"files":          list(&r.Files),
		"base-directory": text(&r.BaseDirectory),
		"discard-paths":  flag(&r.DiscardPaths),
		"file-format": func(p *parser, n *yaml.Node, what string) {
			r.FileFormat = strings.ToUpper(p.str(n, what))
			if !slices.Contains(reportFormats, r.FileFormat) {
				p.fail(yamlErrorf("invalid file-format %s for report group %s at line %d", r.FileFormat, e.key, n.Line))
			}
		},
	})
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
	p.fields(n, what, map[string]field{
		"files":           list(&a.Files),
		"name":            text(&a.Name),
		"discard-paths":   flag(&a.DiscardPaths),
		"base-directory":  text(&a.BaseDirectory),
		"exclude-paths":   list(&a.ExcludePaths),
		"enable-symlinks": flag(&a.EnableSymlinks),
		"s3-prefix":       text(&a.S3Prefix),
	})
	// The primary artifacts may hold only secondary-artifacts.
	hasFiles := mapValue(n, "files") != nil
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
	p.fields(n, "cache", map[string]field{
		"paths": list(&c.Paths),
		"key":   text(&c.Key),
		"fallback-keys": func(p *parser, n *yaml.Node, what string) {
			if c.FallbackKeys = p.strs(n, what); len(c.FallbackKeys) > 5 {
				p.fail(yamlErrorf("cache.fallback-keys allows at most 5 keys, found %d at line %d", len(c.FallbackKeys), n.Line))
			}
		},
		"action": func(p *parser, n *yaml.Node, what string) {
			if c.Action = p.str(n, what); c.Action != "restore" && c.Action != "save" {
				p.fail(yamlErrorf("invalid cache action %q at line %d: must be restore or save", c.Action, n.Line))
			}
		},
	})
	return c
}

func (p *parser) batch(n *yaml.Node) *Batch {
	b := &Batch{}
	p.fields(n, "batch", map[string]field{
		"fast-fail":    flag(&b.FastFail),
		"build-list":   func(p *parser, n *yaml.Node, what string) { b.BuildList = p.tasks(n, what) },
		"build-graph":  func(p *parser, n *yaml.Node, what string) { b.BuildGraph = p.tasks(n, what) },
		"build-matrix": func(p *parser, n *yaml.Node, what string) { b.BuildMatrix = p.matrix(n, what) },
		"build-fanout": func(p *parser, n *yaml.Node, what string) {
			b.BuildFanout = &BuildFanout{}
			p.fields(n, what, map[string]field{
				"parallelism":    number(&b.BuildFanout.Parallelism),
				"ignore-failure": flag(&b.BuildFanout.IgnoreFailure),
			})
		},
	})
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
	if !p.holds(n, yaml.SequenceNode, "list", what) {
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
	p.fields(n, what, map[string]field{
		"identifier": text(&t.Identifier),
		"buildspec":  text(&t.Buildspec),
		"env": func(p *parser, n *yaml.Node, what string) {
			p.fields(n, what, map[string]field{
				"compute-type":    text(&t.Env.ComputeType),
				"fleet":           text(&t.Env.Fleet),
				"image":           text(&t.Env.Image),
				"privileged-mode": flag(&t.Env.PrivilegedMode),
				"type":            text(&t.Env.Type),
				"variables":       variables(&t.Env.Variables),
			})
		},
		"debug-session":  flag(&t.DebugSession),
		"ignore-failure": flag(&t.IgnoreFailure),
		"depend-on":      list(&t.DependOn),
	})
	return t
}

func (p *parser) matrix(n *yaml.Node, what string) *BuildMatrix {
	m := &BuildMatrix{}
	d := &m.Dynamic
	p.fields(n, what, map[string]field{
		"static": func(p *parser, n *yaml.Node, what string) { m.Static = p.task(n, what) },
		"dynamic": func(p *parser, n *yaml.Node, what string) {
			p.fields(n, what, map[string]field{
				"buildspec": list(&d.Buildspec),
				"env": func(p *parser, n *yaml.Node, what string) {
					p.fields(n, what, map[string]field{
						"compute-type": list(&d.ComputeType),
						"image":        list(&d.Image),
						"variables": func(p *parser, n *yaml.Node, what string) {
							for _, e := range p.entries(n, what) {
								d.Variables = append(d.Variables, MatrixVar{Name: e.key, Values: p.strs(e.node, what+"."+e.key)})
							}
						},
					})
				},
			})
		},
	})
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
