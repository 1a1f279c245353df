package awstest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// WantSealedOnDisk fails if a file under the data dir holds sealed in the
// clear. visible, a value the server stores in the clear, must be found:
// it shows that the scan looks where the data is. Restart the server
// first: a clean shutdown checkpoints the database's WAL into its file.
func (s *Server) WantSealedOnDisk(t testing.TB, sealed, visible string) {
	t.Helper()
	found := map[string]bool{}
	err := filepath.WalkDir(s.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a file the running server removed meanwhile
		}
		if err != nil {
			return err
		}
		for _, v := range []string{sealed, visible} {
			found[v] = found[v] || bytes.Contains(b, []byte(v))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("awstest: scanning the data dir: %v", err)
	}
	if found[sealed] {
		t.Errorf("%q is in the data dir in plaintext", sealed)
	}
	if !found[visible] {
		t.Errorf("%q is not in the data dir: the scan looks in the wrong place", visible)
	}
}
