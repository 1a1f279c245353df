package main

import "testing"

// TestUpHelp: asking for the usage is not an error (exit status 0), a
// flag overcast does not know is.
func TestUpHelp(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr bool
	}{
		{[]string{"-h"}, false},
		{[]string{"--help"}, false},
		{[]string{"--no-such-flag"}, true},
	} {
		if err := up(tt.args); (err != nil) != tt.wantErr {
			t.Errorf("up(%q): got %v, want error %v", tt.args, err, tt.wantErr)
		}
	}
}
