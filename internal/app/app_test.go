package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"overcast/internal/app"
)

func TestDataDirIsExclusive(t *testing.T) {
	dir := t.TempDir()
	first := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err := first.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	wantRunError(t, app.Config{Addr: "127.0.0.1:0", DataDir: dir}, "in use")
}

// wantRunError runs an overcast with cfg and wants it to refuse to start
// with an error that says want.
func wantRunError(t *testing.T, cfg app.Config, want string) {
	t.Helper()
	m := app.New(cfg)
	err := m.Run(context.Background())
	if err == nil {
		m.Close()
		t.Fatalf("Run: overcast started, want an error saying %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Run: got %q, want an error saying %q", err, want)
	}
}

func TestCloseStopsServing(t *testing.T) {
	m := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	url := m.URL()
	resp, err := http.Get(url + "/_overcast/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if resp, err := http.Get(url + "/_overcast/health"); err == nil {
		resp.Body.Close()
		t.Fatal("still serving after Close")
	}
	// The data dir is free again.
	again := app.New(app.Config{Addr: "127.0.0.1:0", DataDir: m.DataDir()})
	if err := again.Run(context.Background()); err != nil {
		t.Fatalf("reopening the data dir: %v", err)
	}
	again.Close()
}
