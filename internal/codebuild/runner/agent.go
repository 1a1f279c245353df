package runner

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Where the build's host WorkDir appears inside the container, and the
// agent's files in it.
const (
	outputDir    = "/codebuild/output"
	tmpDir       = outputDir + "/tmp"
	readonlyDir  = "/codebuild/readonly"
	agentScript  = tmpDir + "/agent.sh"
	envFile      = tmpDir + "/env.sh"
	commandFile  = tmpDir + "/script.sh"
	internalFile = tmpDir + "/internal.sh"
)

// agentSource is the build container's main process: a POSIX sh loop that
// works with any /bin/sh (dash, bash, busybox). It reads one line per
// command from cmd.fifo — "<token> <user|-> <shell> <script>" — runs the
// script with its output on log.fifo, then writes "<token> <status>". The
// token is fresh for every command and never reaches the script, so no
// output can fake the end of a command; background processes that keep
// log.fifo open do not matter, since the host waits for the token, not EOF.
// A /bin/sh script runs in a subshell of the loop (the same shell, so the
// same semantics) rather than a new /bin/sh: a fork without an exec, which
// is most of a command's overhead; the subshell drops the token first.
const agentSource = `#!/bin/sh
exec 3>"$0.log" 4<"$0.cmd"
while IFS=' ' read -r tok user sh script <&4; do
  [ "$tok" = exit ] && exit 0
  if [ "$user" = - ] && [ "$sh" = /bin/sh ]; then
    ( unset tok; . "$script" ) </dev/null >&3 2>&1 3>&- 4<&-
  elif [ "$user" = - ]; then
    "$sh" "$script" </dev/null >&3 2>&1 3>&- 4<&-
  else
    su "$user" -s "$sh" -c "$sh $script" </dev/null >&3 2>&1 3>&- 4<&-
  fi
  printf '\n%s %d\n' "$tok" "$?" >&3
done
`

// session talks to the agent of one running build container through the
// two FIFOs in the build's tmp directory.
type session struct {
	hostTmp string // WorkDir/tmp on the host
	cmd     *os.File
	log     *os.File
	lines   chan line // output lines, read as they come
	// exited closes when the container ends: the FIFOs, open read-write on
	// the host, never report EOF by themselves.
	exited <-chan struct{}
	// abandoned is set when a command was left running (the build timed
	// out or was stopped): the agent is still busy with it, so nothing
	// more can run.
	abandoned bool
}

// errAbandoned refuses a script after a command was abandoned.
var errAbandoned = errors.New("the build container is still running an abandoned command")

// line is one line of the agent's output, or the end of a command.
type line struct {
	text   string
	token  string // set when the line has the shape of a command's end
	status int
	err    error // reading failed: the agent is gone
}

// newSession writes the agent script and makes its FIFOs under
// hostTmp. Both FIFOs are opened read-write on the host so that opening
// never blocks and the agent's end opens as soon as it starts.
func newSession(hostTmp string, exited <-chan struct{}) (*session, error) {
	if err := os.MkdirAll(hostTmp, 0o777); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(hostTmp, "agent.sh"), []byte(agentSource), 0o755); err != nil {
		return nil, err
	}
	s := &session{hostTmp: hostTmp, lines: make(chan line, 256), exited: exited}
	for _, f := range []struct {
		name string
		file **os.File
	}{{"agent.sh.cmd", &s.cmd}, {"agent.sh.log", &s.log}} {
		path := filepath.Join(hostTmp, f.name)
		if err := syscall.Mkfifo(path, 0o666); err != nil && !errors.Is(err, os.ErrExist) {
			s.close()
			return nil, fmt.Errorf("making %s: %w", f.name, err)
		}
		file, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			s.close()
			return nil, err
		}
		*f.file = file
	}
	go s.read()
	return s, nil
}

// read turns the log FIFO into lines until it is closed.
func (s *session) read() {
	r := bufio.NewReaderSize(s.log, 64<<10)
	var partial bytes.Buffer
	for {
		chunk, err := r.ReadSlice('\n')
		partial.Write(chunk)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // a long line: keep reading it
		}
		if err != nil {
			s.lines <- line{err: err}
			close(s.lines)
			return
		}
		text := strings.TrimSuffix(partial.String(), "\n")
		partial.Reset()
		s.lines <- lineOf(text)
	}
}

// lineOf recognises an end-of-command line "<token> <status>"; tokens are
// 32 hex digits.
func lineOf(text string) line {
	tok, status, ok := strings.Cut(text, " ")
	if ok && len(tok) == 32 && isHex(tok) {
		var n int
		if _, err := fmt.Sscanf(status, "%d", &n); err == nil {
			return line{text: text, token: tok, status: n}
		}
	}
	return line{text: text}
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *session) close() {
	for _, f := range []*os.File{s.cmd, s.log} {
		if f != nil {
			f.Close()
		}
	}
}

// errAgentGone is the agent's FIFO closing under a command: the container
// ended.
var errAgentGone = errors.New("the build container exited")

// run runs the script at scriptPath (a container path) as user ("" for the
// container's user) with shell, handing each output line to out, and
// returns the script's exit status. It returns ctx's error when ctx ends
// first; the command then keeps running until the container is removed.
func (s *session) run(ctx context.Context, user, shell, scriptPath string, out func(string)) (status int, err error) {
	if s.abandoned {
		return 0, errAbandoned
	}
	defer func() {
		if err != nil {
			s.abandoned = true
		}
	}()
	token := newToken()
	if user == "" {
		user = "-"
	}
	if _, err := fmt.Fprintf(s.cmd, "%s %s %s %s\n", token, user, shell, scriptPath); err != nil {
		return 0, err
	}
	// The agent writes "\n" before the token so that it starts a line even
	// after output without a final newline; that one empty line is not the
	// command's.
	var pendingEmpty bool
	for {
		select {
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-s.exited:
			return 0, errAgentGone
		case l, ok := <-s.lines:
			if !ok || l.err != nil {
				return 0, errAgentGone
			}
			if l.token == token {
				return l.status, nil
			}
			// Any other line is output, even one shaped like an end
			// line: no earlier command is ever left running.
			if pendingEmpty {
				out("")
			}
			pendingEmpty = l.text == ""
			if !pendingEmpty {
				out(l.text)
			}
		}
	}
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// writeScript writes a script for the agent to run, in the host tmp
// directory under name.
func (s *session) writeScript(name, body string) error {
	return os.WriteFile(filepath.Join(s.hostTmp, name), []byte(body), 0o755)
}

// shellQuote quotes s for any POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
