package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Clover XML: files under <project>, directly or in packages, each with its
// totals in <metrics>.
type cloverFile struct {
	Name    string `xml:"name,attr"`
	Path    string `xml:"path,attr"`
	Metrics struct {
		Statements          int `xml:"statements,attr"`
		CoveredStatements   int `xml:"coveredstatements,attr"`
		Conditionals        int `xml:"conditionals,attr"`
		CoveredConditionals int `xml:"coveredconditionals,attr"`
	} `xml:"metrics"`
}

func parseClover(data []byte) ([]FileCoverage, error) {
	var root struct {
		Files    []cloverFile `xml:"project>file"`
		Packages []struct {
			Files []cloverFile `xml:"file"`
		} `xml:"project>package"`
	}
	if err := decodeXML(data, &root, "coverage"); err != nil {
		return nil, err
	}
	all := root.Files
	for _, p := range root.Packages {
		all = append(all, p.Files...)
	}
	var files []FileCoverage
	for _, f := range all {
		path := f.Path
		if path == "" {
			path = f.Name
		}
		m := f.Metrics
		files = append(files, FileCoverage{
			Path:            path,
			LinesCovered:    m.CoveredStatements,
			LinesMissed:     m.Statements - m.CoveredStatements,
			BranchesCovered: m.CoveredConditionals,
			BranchesMissed:  m.Conditionals - m.CoveredConditionals,
		})
	}
	return files, nil
}

// Cobertura XML: classes name their file; a file's lines may be spread over
// several classes, so lines are merged by number.
func parseCobertura(data []byte) ([]FileCoverage, error) {
	var root struct {
		Classes []struct {
			Filename string `xml:"filename,attr"`
			Lines    []struct {
				Number            int    `xml:"number,attr"`
				Hits              int64  `xml:"hits,attr"`
				Branch            bool   `xml:"branch,attr"`
				ConditionCoverage string `xml:"condition-coverage,attr"`
			} `xml:"lines>line"`
		} `xml:"packages>package>classes>class"`
	}
	if err := decodeXML(data, &root, "coverage"); err != nil {
		return nil, err
	}
	type line struct {
		hit             bool
		covered, branch int
	}
	byFile := map[string]map[int]line{}
	for _, c := range root.Classes {
		lines := byFile[c.Filename]
		if lines == nil {
			lines = map[int]line{}
			byFile[c.Filename] = lines
		}
		for _, l := range c.Lines {
			got := lines[l.Number]
			got.hit = got.hit || l.Hits > 0
			if l.Branch {
				// condition-coverage="50% (1/2)"
				var pct, covered, total int
				if _, err := fmt.Sscanf(l.ConditionCoverage, "%d%% (%d/%d)", &pct, &covered, &total); err == nil {
					got.covered, got.branch = max(got.covered, covered), max(got.branch, total)
				}
			}
			lines[l.Number] = got
		}
	}
	var files []FileCoverage
	for name, lines := range byFile {
		f := FileCoverage{Path: name}
		for _, l := range lines {
			if l.hit {
				f.LinesCovered++
			} else {
				f.LinesMissed++
			}
			f.BranchesCovered += l.covered
			f.BranchesMissed += l.branch - l.covered
		}
		files = append(files, f)
	}
	sortByPath(files)
	return files, nil
}

// JaCoCo XML: source files in packages (packages possibly in groups), each
// with LINE and BRANCH counters.
type jacocoPackage struct {
	Name        string `xml:"name,attr"`
	SourceFiles []struct {
		Name     string `xml:"name,attr"`
		Counters []struct {
			Type    string `xml:"type,attr"`
			Missed  int    `xml:"missed,attr"`
			Covered int    `xml:"covered,attr"`
		} `xml:"counter"`
	} `xml:"sourcefile"`
}

type jacocoGroup struct {
	Groups   []jacocoGroup   `xml:"group"`
	Packages []jacocoPackage `xml:"package"`
}

func parseJaCoCo(data []byte) ([]FileCoverage, error) {
	var root jacocoGroup
	if err := decodeXML(data, &root, "report"); err != nil {
		return nil, err
	}
	return collect([]jacocoGroup{root}, func(g jacocoGroup) []jacocoGroup { return g.Groups }, func(g jacocoGroup) []FileCoverage {
		var files []FileCoverage
		for _, p := range g.Packages {
			for _, sf := range p.SourceFiles {
				f := FileCoverage{Path: strings.TrimPrefix(p.Name+"/"+sf.Name, "/")}
				for _, c := range sf.Counters {
					switch c.Type {
					case "LINE":
						f.LinesCovered, f.LinesMissed = c.Covered, c.Missed
					case "BRANCH":
						f.BranchesCovered, f.BranchesMissed = c.Covered, c.Missed
					}
				}
				files = append(files, f)
			}
		}
		return files
	}), nil
}

// SimpleCov JSON: simplecov's own .resultset.json ({command: {coverage:
// {file: lines or {lines, branches}}}}) or its JSON formatter's coverage.json
// ({coverage: {file: {lines, branches}}}).
func parseSimpleCov(data []byte) ([]FileCoverage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	var runs []json.RawMessage
	if cov, ok := top["coverage"]; ok {
		runs = append(runs, cov)
	} else {
		for _, raw := range top {
			var run struct {
				Coverage json.RawMessage `json:"coverage"`
			}
			if json.Unmarshal(raw, &run) == nil && run.Coverage != nil {
				runs = append(runs, run.Coverage)
			}
		}
	}
	if len(runs) == 0 {
		return nil, errors.New("no coverage object")
	}
	// Several runs (test commands) cover the same files: a line any of
	// them ran is covered.
	type merged struct {
		lines    []int // -1: not code
		branches map[string]int
	}
	byFile := map[string]*merged{}
	for _, run := range runs {
		var files map[string]json.RawMessage
		if err := json.Unmarshal(run, &files); err != nil {
			return nil, err
		}
		for name, raw := range files {
			lines, branches, err := simplecovFile(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			m := byFile[name]
			if m == nil {
				m = &merged{branches: map[string]int{}}
				byFile[name] = m
			}
			for i, n := range lines {
				if i >= len(m.lines) {
					m.lines = append(m.lines, n)
				} else {
					m.lines[i] = max(m.lines[i], n)
				}
			}
			for k, n := range branches {
				m.branches[k] = max(m.branches[k], n)
			}
		}
	}
	var files []FileCoverage
	for name, m := range byFile {
		f := FileCoverage{Path: name}
		for _, n := range m.lines {
			switch {
			case n > 0:
				f.LinesCovered++
			case n == 0:
				f.LinesMissed++
			}
		}
		for _, n := range m.branches {
			if n > 0 {
				f.BranchesCovered++
			} else {
				f.BranchesMissed++
			}
		}
		files = append(files, f)
	}
	sortByPath(files)
	return files, nil
}

// simplecovFile reads one file's line hits (-1 where the line is not code or
// ignored) and branch hits keyed by the branch's identity.
func simplecovFile(raw json.RawMessage) ([]int, map[string]int, error) {
	var lines []any
	var branches any
	if err := json.Unmarshal(raw, &lines); err != nil {
		var obj struct {
			Lines    []any `json:"lines"`
			Branches any   `json:"branches"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, nil, errors.New("neither a line array nor an object with lines")
		}
		lines, branches = obj.Lines, obj.Branches
	}
	hits := make([]int, len(lines))
	for i, v := range lines {
		n, ok := v.(float64)
		if !ok { // null or "ignored"
			n = -1
		}
		hits[i] = int(n)
	}
	counts := map[string]int{}
	switch b := branches.(type) {
	case map[string]any: // resultset: {condition: {branch: hits}}
		for cond, inner := range b {
			if m, ok := inner.(map[string]any); ok {
				for branch, n := range m {
					f, _ := n.(float64)
					counts[cond+branch] = int(f)
				}
			}
		}
	case []any: // formatter: [{type, start_line, end_line, coverage}]
		for i, v := range b {
			m, _ := v.(map[string]any)
			if n, ok := m["coverage"].(float64); ok {
				counts[fmt.Sprint(i, m["type"], m["start_line"])] = int(n)
			}
		}
	}
	return hits, counts, nil
}

func sortByPath(files []FileCoverage) {
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
}
