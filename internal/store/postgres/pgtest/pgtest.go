// Package pgtest starts a throwaway PostgreSQL cluster for tests, from the
// binaries on the machine (Debian's postgresql package): initdb and pg_ctl
// in a temporary directory, listening only on a unix socket there, stopped
// and removed when the test ends.
//
// PostgreSQL refuses to run as root; a test running as root runs the
// cluster as the system user overcast-pg, created on first use.
//
// Without the binaries the test is skipped with the reason, or fails when
// OVERCAST_TEST_POSTGRES=1 (CI, where a skipped test would hide a gap).
package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// RequireEnv, set to 1, turns a skip for missing binaries into a failure.
const RequireEnv = "OVERCAST_TEST_POSTGRES"

// systemUser runs the cluster when the test runs as root.
const systemUser = "overcast-pg"

// Server is a running PostgreSQL cluster.
type Server struct {
	bin  string // the directory holding initdb, pg_ctl, psql
	dir  string // the cluster's directory: data/, the socket, the log
	cred *syscall.Credential
	dbs  atomic.Int64
}

// Start initializes and starts a cluster that stops when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("pgtest: %v (%s=1)", err, RequireEnv)
		}
		t.Skipf("pgtest: %v; install postgresql (scripts/deps.sh) to run this test", err)
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = unprivileged(); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	s.reapOrphans(t)
	// Not t.TempDir: its parents are private to root, and the cluster's
	// user must reach its directory. A short path too: the socket's path
	// must fit in 107 bytes.
	if s.dir, err = os.MkdirTemp("", "overcast-pg-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(s.dir) })
	// The test process's pid, so that a later test can stop this cluster
	// if this process dies without its cleanup (a timeout, a kill).
	if err := os.WriteFile(filepath.Join(s.dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	s.run(t, "initdb", "--pgdata", s.dataDir(), "--username", "postgres", "--auth", "trust",
		"--encoding", "UTF8", "--no-locale", "--no-sync")
	s.Resume(t)
	t.Cleanup(func() { s.pgctl(t, "stop", "--mode", "fast") })
	return s
}

// URL is the postgres:// URL of the database named name, as the
// superuser, over the cluster's socket.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s", name, s.dir)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	s.run(t, "psql", "--no-psqlrc", "--quiet", "--host", s.dir, "--username", "postgres",
		"--dbname", "postgres", "--command", "CREATE DATABASE "+name)
	return s.URL(name)
}

// Stop stops the server (fast shutdown: clients are disconnected), as if
// the database went away; Resume brings it back.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.pgctl(t, "stop", "--mode", "fast")
}

// Resume starts the stopped server again, on the same socket and data.
// Without fsync: what the tests kill is PostgreSQL's clients (or the server
// process), never the machine, and a commit is safe from those once
// PostgreSQL has written it; fsync would only slow every commit down.
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	s.pgctl(t, "start", "--wait", "--log", filepath.Join(s.dir, "postgres.log"),
		"-o", fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -c port=5432 -c fsync=off", s.dir))
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// ownerFile, in a cluster's directory, holds the pid of the test process
// that started it.
const ownerFile = "owner.pid"

// reapOrphans stops and removes the clusters whose test process is gone:
// PostgreSQL does not watch its parent, so a test killed before its
// cleanup would leave its server running for good.
func (s *Server) reapOrphans(t testing.TB) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "overcast-pg-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // being set up, or not ours
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		// Immediate: nobody is waiting for its data.
		_ = s.command("pg_ctl", "--pgdata", filepath.Join(dir, "data"), "--silent", "stop", "--mode", "immediate").Run()
		os.RemoveAll(dir)
		t.Logf("pgtest: removed the cluster in %s, left by process %d", dir, pid)
	}
}

func (s *Server) pgctl(t testing.TB, args ...string) {
	t.Helper()
	s.run(t, "pg_ctl", append([]string{"--pgdata", s.dataDir(), "--silent"}, args...)...)
}

// run runs one of the cluster's programs as the cluster's user.
func (s *Server) run(t testing.TB, program string, args ...string) {
	t.Helper()
	cmd := s.command(program, args...)
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
		t.Fatalf("pgtest: %s %v: %v\n%s\nserver log:\n%s", program, args, err, out, log)
	}
}

// command runs one of PostgreSQL's programs as the cluster's user.
func (s *Server) command(program string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, program), args...)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// binDir finds the PostgreSQL server programs: on PATH, or where Debian
// installs them, the newest version first.
func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("no PostgreSQL server programs (pg_ctl, initdb) on PATH or in /usr/lib/postgresql/*/bin")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

var userOnce = sync.OnceValues(func() (*syscall.Credential, error) {
	u, err := user.Lookup(systemUser)
	if err != nil {
		out, addErr := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", systemUser).CombinedOutput()
		// Another test process may have created it meanwhile.
		if u, err = user.Lookup(systemUser); err != nil {
			return nil, fmt.Errorf("create user %s to run PostgreSQL as: %v: %s", systemUser, addErr, out)
		}
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
})

// unprivileged is the credential of the system user the cluster runs as
// when the test runs as root.
func unprivileged() (*syscall.Credential, error) { return userOnce() }
