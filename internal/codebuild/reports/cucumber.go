package reports

import (
	"encoding/json"
	"errors"
	"time"
)

// Cucumber JSON: features holding scenarios holding steps; a scenario is a
// test case and its steps' results decide its status.
type cucumberFeature struct {
	URI      string `json:"uri"`
	Name     string `json:"name"`
	Elements []struct {
		Name   string         `json:"name"`
		Type   string         `json:"type"`
		Before []cucumberStep `json:"before"`
		Steps  []cucumberStep `json:"steps"`
		After  []cucumberStep `json:"after"`
	} `json:"elements"`
}

type cucumberStep struct {
	Result struct {
		Status       string `json:"status"`
		Duration     int64  `json:"duration"` // nanoseconds
		ErrorMessage string `json:"error_message"`
	} `json:"result"`
}

func parseCucumber(data []byte) ([]TestCase, error) {
	var features []cucumberFeature
	if err := json.Unmarshal(data, &features); err != nil {
		return nil, err
	}
	if features == nil {
		return nil, errors.New("not a JSON array of features")
	}
	var cases []TestCase
	for _, f := range features {
		for _, e := range f.Elements {
			if e.Type == "background" { // its steps repeat in every scenario's result
				continue
			}
			tc := TestCase{Name: e.Name, Prefix: f.Name, Suite: f.URI}
			var steps []cucumberStep
			steps = append(append(append(steps, e.Before...), e.Steps...), e.After...)
			tc.Status = Succeeded
			for _, s := range steps {
				tc.Duration += time.Duration(s.Result.Duration)
				if s.Result.ErrorMessage != "" && tc.Message == "" {
					tc.Message = s.Result.ErrorMessage
				}
				tc.Status = worse(tc.Status, cucumberStatus(s.Result.Status))
			}
			cases = append(cases, tc)
		}
	}
	return cases, nil
}

func cucumberStatus(s string) string {
	switch s {
	case "passed":
		return Succeeded
	case "failed":
		return Failed
	case "skipped":
		return Skipped
	}
	return Unknown // pending, undefined, ambiguous
}

// worse picks the status that describes a test made of parts with statuses a
// and b: any failure fails it, a skipped step after passing ones skips it.
func worse(a, b string) string {
	rank := map[string]int{Succeeded: 0, Skipped: 1, Unknown: 2, Error: 3, Failed: 4}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
