// Command gen generates overcast's wire-level API packages from botocore
// models: internal/api/<service> for every service in the models folder,
// and the typed shapes of the botocore protocol test suites that the codec
// conformance test runs.
//
//	go generate ./internal/awsproto/gen            # from the repository root: write what changed
//	go run ./internal/awsproto/gen                 # the same
//	go run ./internal/awsproto/gen -check          # fail if anything would change
//	go run ./internal/awsproto/gen -models /path/to/botocore/data
package main

//go:generate go run . -models ../../../../shared/aws-models -out ../../api -prototests ../testdata/protocol-tests -prototests-out ../prototest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"overcast/internal/awsproto/botocore"
)

func main() {
	models := flag.String("models", "../shared/aws-models", "botocore data directory: <service>/<api-version>/service-2.json")
	out := flag.String("out", "internal/api", "directory that receives one package per service")
	tests := flag.String("prototests", "internal/awsproto/testdata/protocol-tests", "botocore protocol test vectors (input/*.json, output/*.json)")
	testsOut := flag.String("prototests-out", "internal/awsproto/prototest", "package that receives the protocol test shapes")
	check := flag.Bool("check", false, "write nothing; exit 1 listing the files that would change")
	flag.Parse()

	files := map[string][]byte{}
	if err := addServices(files, *models, *out); err != nil {
		fatal(err)
	}
	if err := addProtocolTests(files, *tests, *testsOut); err != nil {
		fatal(err)
	}
	changed, err := diff(files, []string{*out, *testsOut})
	if err != nil {
		fatal(err)
	}
	if *check {
		if len(changed) > 0 {
			fatal(fmt.Errorf("stale generated files:\n  %s", strings.Join(changed, "\n  ")))
		}
		return
	}
	for _, path := range changed {
		b, ok := files[path]
		if !ok {
			if err := os.Remove(path); err != nil {
				fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			fatal(err)
		}
		fmt.Println("wrote", path)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// packageName is the Go package of a botocore service id ("codestar-connections" → "codestarconnections").
func packageName(id string) string {
	return strings.ReplaceAll(id, "-", "")
}

// addServices generates internal/api/<pkg>/*_gen.go for every service in
// the models directory, plus the list of all of them.
func addServices(files map[string][]byte, modelsDir, outDir string) error {
	entries, err := os.ReadDir(modelsDir)
	if err != nil {
		return err
	}
	var pkgs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(modelsDir, e.Name())
		if matches, _ := filepath.Glob(filepath.Join(dir, "*", "service-2.json")); len(matches) == 0 {
			continue
		}
		m, err := botocore.LoadModel(dir)
		if err != nil {
			return err
		}
		if err := addQueryCompat(m, e.Name()); err != nil {
			return err
		}
		pkg := packageName(e.Name())
		gen, err := serviceFiles(m, pkg)
		if err != nil {
			return err
		}
		for name, b := range gen {
			files[filepath.Join(outDir, pkg, name)] = b
		}
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	var body bytes.Buffer
	body.WriteString("import (\n")
	for _, p := range pkgs {
		fmt.Fprintf(&body, "\t%q\n", "overcast/internal/api/"+p)
	}
	body.WriteString(")\n\n// Unimplemented binds the API of every service overcast has a model for to\n// its UnimplementedServer: what is served until a service is built.\nfunc Unimplemented() []awsproto.Binding {\n\treturn []awsproto.Binding{\n")
	for _, p := range pkgs {
		fmt.Fprintf(&body, "\t\t%s.Bind(%s.UnimplementedServer{}),\n", p, p)
	}
	body.WriteString("\t}\n}\n")
	return addSource(files, filepath.Join(outDir, "services_gen.go"), "api",
		"// Package api lists the generated wire-level API packages, one per AWS service.\n", body.Bytes())
}

// diff lists the paths whose content differs from files, including
// generated files under dirs that would no longer be generated.
func diff(files map[string][]byte, dirs []string) ([]string, error) {
	var changed []string
	for path, b := range files {
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, b) {
			changed = append(changed, path)
		}
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, "_gen.go") {
				if _, ok := files[path]; !ok {
					changed = append(changed, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(changed)
	return changed, nil
}
