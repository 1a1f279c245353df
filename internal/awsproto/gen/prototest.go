package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"overcast/internal/awsproto/botocore"
)

// suite is one entry of a botocore protocol test file.
type suite struct {
	Metadata botocore.Metadata          `json:"metadata"`
	Shapes   map[string]*botocore.Shape `json:"shapes"`
}

// addProtocolTests generates the typed shapes of every protocol test suite
// into one package,
// with a table from "<file>/<direction>/<suite index>/<shape>" to the type.
func addProtocolTests(files map[string][]byte, testsDir, outDir string) error {
	var paths []string
	for _, dir := range []string{"input", "output"} {
		matches, err := filepath.Glob(filepath.Join(testsDir, dir, "*.json"))
		if err != nil {
			return err
		}
		paths = append(paths, matches...)
	}
	if len(paths) == 0 {
		return fmt.Errorf("gen: no protocol tests under %s", testsDir)
	}
	sort.Strings(paths)
	var table bytes.Buffer
	table.WriteString("// Types maps \"<file>/<direction>/<suite>/<shape>\" to the generated type of each shape.\nvar Types = map[string]reflect.Type{\n")
	for _, path := range paths {
		base := strings.TrimSuffix(filepath.Base(path), ".json")
		dir := filepath.Base(filepath.Dir(path))
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var suites []suite
		if err := json.Unmarshal(b, &suites); err != nil {
			return fmt.Errorf("gen: %s: %w", path, err)
		}
		var body bytes.Buffer
		for i, s := range suites {
			prefix := fmt.Sprintf("%s%s%d_", camel(base), camel(dir[:2]), i)
			g := newGenerator(&botocore.Model{Metadata: s.Metadata, Shapes: s.Shapes}, "prototest", prefix, false)
			g.types()
			body.Write(g.out.Bytes())
			for _, name := range sortedKeys(g.names) {
				fmt.Fprintf(&table, "\t%q: reflect.TypeFor[%s](),\n", fmt.Sprintf("%s/%s/%d/%s", base, dir, i, name), g.names[name])
			}
		}
		if err := addSource(files, filepath.Join(outDir, strings.ReplaceAll(base, "-", "_")+"_"+dir+"_gen.go"), "prototest", "", body.Bytes()); err != nil {
			return err
		}
	}
	table.WriteString("}\n")
	return addSource(files, filepath.Join(outDir, "types_gen.go"), "prototest",
		"// Package prototest holds the shapes of the botocore protocol test suites as Go\n// types, generated like the service APIs, for the awsproto conformance test.\n", table.Bytes())
}
