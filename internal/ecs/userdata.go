package ecs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// agentConfig is what the ECS agent of an instance reads from
// /etc/ecs/ecs.config, as the instance's user data writes it.
type agentConfig struct {
	Cluster string
	// InstanceAttributes is ECS_INSTANCE_ATTRIBUTES: custom attributes the
	// agent registers.
	InstanceAttributes map[string]string
	// ReservedPorts and ReservedPortsUDP are ECS_RESERVED_PORTS(_UDP):
	// the agent's default TCP ports unless set.
	ReservedPorts    []string
	ReservedPortsUDP []string
	// ReservedMemory is ECS_RESERVED_MEMORY, MiB the agent keeps out of
	// what it registers.
	ReservedMemory int
	// Tags is ECS_CONTAINER_INSTANCE_TAGS.
	Tags map[string]string
}

const ecsConfigPath = "/etc/ecs/ecs.config"

// parseUserData finds what a user data script writes to
// /etc/ecs/ecs.config and reads it as the agent would. It understands
// shell scripts (echo/printf appends, heredocs through cat or tee, simple
// variables), MIME multipart user data (each part in turn), gzip, and
// base64 of any of these. A setting the agent would refuse to start with
// is an error.
func parseUserData(data []byte) (agentConfig, error) {
	env := map[string]string{}
	for _, script := range userDataScripts(data) {
		if strings.Contains(script, "[settings.ecs") {
			bottlerocketConfig(script, env)
			continue
		}
		lines := configLines(script)
		if strings.HasPrefix(strings.TrimSpace(script), "#cloud-config") {
			lines = append(writtenFiles(script), lines...)
		}
		for _, line := range lines {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok || strings.HasPrefix(k, "#") {
				continue
			}
			env[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
		}
	}
	return agentConfigFrom(env)
}

func agentConfigFrom(env map[string]string) (agentConfig, error) {
	cfg := agentConfig{Cluster: env["ECS_CLUSTER"], ReservedPorts: agentReservedPorts}
	if cfg.Cluster == "" {
		cfg.Cluster = defaultCluster
	}
	if v := env["ECS_INSTANCE_ATTRIBUTES"]; v != "" {
		if err := json.Unmarshal([]byte(v), &cfg.InstanceAttributes); err != nil {
			return cfg, fmt.Errorf("ECS_INSTANCE_ATTRIBUTES: %w", err)
		}
	}
	if v := env["ECS_CONTAINER_INSTANCE_TAGS"]; v != "" {
		if err := json.Unmarshal([]byte(v), &cfg.Tags); err != nil {
			return cfg, fmt.Errorf("ECS_CONTAINER_INSTANCE_TAGS: %w", err)
		}
	}
	var err error
	if v := env["ECS_RESERVED_PORTS"]; v != "" {
		if cfg.ReservedPorts, err = portList(v); err != nil {
			return cfg, fmt.Errorf("ECS_RESERVED_PORTS: %w", err)
		}
	}
	if v := env["ECS_RESERVED_PORTS_UDP"]; v != "" {
		if cfg.ReservedPortsUDP, err = portList(v); err != nil {
			return cfg, fmt.Errorf("ECS_RESERVED_PORTS_UDP: %w", err)
		}
	}
	if v := env["ECS_RESERVED_MEMORY"]; v != "" {
		if cfg.ReservedMemory, err = strconv.Atoi(v); err != nil || cfg.ReservedMemory < 0 {
			return cfg, fmt.Errorf("ECS_RESERVED_MEMORY: not a number of MiB: %q", v)
		}
	}
	return cfg, nil
}

func portList(v string) ([]string, error) {
	var ports []int
	if err := json.Unmarshal([]byte(v), &ports); err != nil {
		return nil, err
	}
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = strconv.Itoa(p)
	}
	return out, nil
}

// userDataScripts are the texts user data carries: one for a plain
// script, one per part of a MIME multipart message.
func userDataScripts(data []byte) []string {
	data = decodeUserData(data)
	if msg, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err == nil && strings.HasPrefix(mediaType, "multipart/") {
			var out []string
			r := multipart.NewReader(msg.Body, params["boundary"])
			for {
				part, err := r.NextPart()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(part)
				if part.Header.Get("Content-Transfer-Encoding") == "base64" {
					b, _ = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
				}
				out = append(out, userDataScripts(b)...)
			}
			return out
		}
	}
	return []string{string(data)}
}

// decodeUserData undoes gzip and base64, which EC2 user data often is.
func decodeUserData(data []byte) []byte {
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				return decodeUserData(b)
			}
		}
	}
	trimmed := strings.Join(strings.Fields(string(data)), "")
	if b, err := base64.StdEncoding.DecodeString(trimmed); err == nil && len(trimmed) > 0 && (utf8.Valid(b) || bytes.HasPrefix(b, []byte{0x1f, 0x8b})) {
		return decodeUserData(b)
	}
	return data
}

var (
	// heredocStart matches a command that writes a heredoc to the config
	// file: cat <<EOF >> /etc/ecs/ecs.config, cat > /etc/ecs/ecs.config
	// <<'EOF', tee -a /etc/ecs/ecs.config <<-EOF ...
	heredocStart = regexp.MustCompile(`<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?`)
	assignment   = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
	variable     = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
)

// configLines are the lines a shell script writes to the agent's config
// file.
func configLines(script string) []string {
	vars := map[string]string{}
	expand := func(s string) string {
		return variable.ReplaceAllStringFunc(s, func(m string) string {
			sub := variable.FindStringSubmatch(m)
			return vars[sub[1]+sub[2]]
		})
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(script))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := heredocStart.FindStringSubmatch(line); m != nil && strings.Contains(line, ecsConfigPath) {
			quoted := strings.ContainsAny(m[0], `'"`)
			for sc.Scan() {
				body := sc.Text()
				if strings.TrimSpace(body) == m[1] {
					break
				}
				if !quoted {
					body = expand(body)
				}
				out = append(out, body)
			}
			continue
		}
		if m := assignment.FindStringSubmatch(line); m != nil && !strings.Contains(line, ecsConfigPath) {
			vars[m[1]] = unquote(expand(strings.TrimSpace(m[2])))
			continue
		}
		if !strings.Contains(line, ecsConfigPath) {
			continue
		}
		// A cloud-config runcmd item ("- echo ..." or "- 'echo ...'") runs
		// the same command.
		line = strings.TrimPrefix(strings.TrimSpace(line), "- ")
		for _, cmd := range strings.Split(unquote(strings.TrimSpace(line)), "&&") {
			if strings.Contains(cmd, ecsConfigPath) {
				out = append(out, echoed(expand(cmd))...)
			}
		}
	}
	return out
}

// writtenFiles are the lines a cloud-config's write_files puts in the
// agent's config file: the content block of the item whose path it is.
func writtenFiles(doc string) []string {
	var out []string
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		item := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i]), "- "))
		if item != "path: "+ecsConfigPath {
			continue
		}
		// The item's other keys follow at the indentation of its path;
		// content's block is indented further.
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " -"))
		for j := i + 1; j < len(lines) && indentOf(lines[j]) >= indent; j++ {
			key := strings.TrimSpace(lines[j])
			if !strings.HasPrefix(key, "content:") {
				continue
			}
			if inline := strings.TrimSpace(strings.TrimPrefix(key, "content:")); inline != "|" && inline != "|-" {
				out = append(out, unquote(inline))
				break
			}
			for k := j + 1; k < len(lines) && (indentOf(lines[k]) > indentOf(lines[j]) || strings.TrimSpace(lines[k]) == ""); k++ {
				out = append(out, strings.TrimSpace(lines[k]))
			}
			break
		}
	}
	return out
}

func indentOf(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

// bottlerocketConfig reads Bottlerocket's TOML user data: its agent takes
// the cluster and instance attributes from [settings.ecs].
func bottlerocketConfig(doc string, env map[string]string) {
	section := ""
	attrs := map[string]string{}
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[] ")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.Trim(strings.TrimSpace(k), `"`), unquote(strings.TrimSpace(v))
		switch {
		case section == "settings.ecs" && k == "cluster":
			env["ECS_CLUSTER"] = v
		case section == "settings.ecs" && k == "reserved-memory":
			env["ECS_RESERVED_MEMORY"] = v
		case section == "settings.ecs.instance-attributes":
			attrs[k] = v
		}
	}
	if len(attrs) > 0 {
		b, _ := json.Marshal(attrs)
		env["ECS_INSTANCE_ATTRIBUTES"] = string(b)
	}
}

// echoed is what an echo or printf command writes: its arguments before
// the redirection or pipe, with \n escapes split into lines.
func echoed(cmd string) []string {
	cmd = strings.TrimSpace(cmd)
	var args string
	switch {
	case strings.HasPrefix(cmd, "echo "):
		args = strings.TrimPrefix(cmd, "echo ")
		for _, flag := range []string{"-e ", "-n ", "-en ", "-ne "} {
			args = strings.TrimPrefix(strings.TrimSpace(args), flag)
		}
	case strings.HasPrefix(cmd, "printf "):
		args = strings.TrimPrefix(cmd, "printf ")
	default:
		return nil
	}
	if i := strings.IndexAny(args, ">|"); i >= 0 {
		args = args[:i]
	}
	text := unquote(strings.TrimSpace(args))
	return strings.Split(strings.ReplaceAll(text, `\n`, "\n"), "\n")
}

// unquote removes one level of shell or env-file quotes.
func unquote(s string) string {
	if len(s) < 2 || s[len(s)-1] != s[0] {
		return s
	}
	switch s[0] {
	case '\'':
		return s[1 : len(s)-1]
	case '"':
		return strings.ReplaceAll(s[1:len(s)-1], `\"`, `"`)
	}
	return s
}
