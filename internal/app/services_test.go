package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"overcast/internal/app"
	"overcast/internal/awstest"
)

// repoRoot is the module's root, from this package's directory.
const repoRoot = "../.."

// servicePackages are the directories internal/<svc> that implement a
// generated internal/api/<svc>.
func servicePackages(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot, "internal", "api"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "internal", e.Name())); err == nil {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatal("found no service packages")
	}
	return out
}

// TestEveryServiceIsRegistered fails when a service package exists but
// buildServices does not list it: its API would answer 501 everywhere.
func TestEveryServiceIsRegistered(t *testing.T) {
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	resp, err := http.Get(m.URL() + "/_overcast/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct{ Services map[string]string }
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	for _, svc := range servicePackages(t) {
		if h.Services[svc] != "available" {
			t.Errorf("internal/%s exists but its API is %q: add it to buildServices", svc, h.Services[svc])
		}
	}
}

// TestServiceBoundaries checks ARCHITECTURE's rule with `go list -deps`: a
// service package depends on neither the gateway nor the app nor another
// service's package; it asks for what it needs through an interface of its
// own.
func TestServiceBoundaries(t *testing.T) {
	services := servicePackages(t)
	isService := map[string]bool{}
	for _, s := range services {
		isService[s] = true
	}
	goBin := awstest.GoTool()
	for _, svc := range services {
		cmd := exec.Command(goBin, "list", "-deps", "./internal/"+svc+"/...")
		cmd.Dir = repoRoot
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps ./internal/%s/...: %v", svc, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rest, ok := strings.CutPrefix(dep, "overcast/internal/")
			if !ok {
				continue
			}
			top, _, _ := strings.Cut(rest, "/")
			switch {
			case top == "gateway" || top == "app" || top == "awstest":
				t.Errorf("internal/%s depends on %s", svc, dep)
			case isService[top] && top != svc:
				t.Errorf("internal/%s depends on another service: %s", svc, dep)
			}
		}
	}
}
