package main

import (
	"os"
	"path/filepath"
	"testing"

	"overcast/internal/tabletest"
)

// TestGeneratedFilesUpToDate fails when running the generator would change
// a committed *_gen.go file: generated code is never edited by hand.
func TestGeneratedFilesUpToDate(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	models := os.Getenv("OVERCAST_MODELS")
	if models == "" {
		models = filepath.Join(root, "..", "shared", "aws-models")
	}
	files := map[string][]byte{}
	apiDir := filepath.Join(root, "internal", "api")
	testsDir := filepath.Join(root, "internal", "awsproto", "prototest")
	dirs := []string{testsDir}
	if _, err := os.Stat(models); err != nil {
		// CI has the models next to the checkout and sets
		// OVERCAST_REQUIRE_MODELS: there, a missing folder must fail, or
		// drift would pass unseen.
		if os.Getenv("OVERCAST_REQUIRE_MODELS") == "1" {
			t.Fatalf("models folder %s is absent and OVERCAST_REQUIRE_MODELS=1: cannot check internal/api for drift", models)
		}
		t.Logf("models folder %s is absent (set OVERCAST_MODELS): checking only the protocol test shapes", models)
	} else {
		if err := addServices(files, models, apiDir); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, apiDir)
	}
	if err := addProtocolTests(files, filepath.Join(root, "internal", "awsproto", "testdata", "protocol-tests"), testsDir); err != nil {
		t.Fatal(err)
	}
	changed, err := diff(files, dirs)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range changed {
		t.Errorf("stale generated file %s: run go generate ./internal/awsproto/gen", path)
	}
}

func TestExportName(t *testing.T) {
	tabletest.Run(t, "exportName", exportName, map[string]string{
		"userNameType": "UserNameType",
		"3dThing":      "X3dThing",
		"a-b.c":        "A_b_c",
	})
	if got := camel("us-east-1"); got != "UsEast1" {
		t.Errorf("camel = %q, want UsEast1", got)
	}
}
