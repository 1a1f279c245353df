package blob_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"overcast/internal/blob"
	"overcast/internal/blob/blobtest"
)

func TestDirConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		d, err := blob.OpenDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// TestDirRemovesTemporaryFiles: a writer killed before Commit leaves a
// temporary file that the next OpenDir removes, and nothing else.
func TestDirRemovesTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	d, err := blob.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kept, _ := d.Create(ctx)
	kept.Write([]byte("committed"))
	if err := kept.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	crashed, _ := d.Create(ctx)
	crashed.Write([]byte("half an upload"))
	// No Commit, no Abort: the process dies here.

	if _, err := blob.OpenDir(root); err != nil {
		t.Fatal(err)
	}
	tmp, _ := os.ReadDir(filepath.Join(root, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("got %d temporary files after reopening, want 0", len(tmp))
	}
	if _, err := d.Size(ctx, kept.ID()); err != nil {
		t.Errorf("committed blob after reopening: %v", err)
	}
}

// TestDirStaysInside: every file the store creates is under its root, and
// IDs are the only names it uses.
func TestDirStaysInside(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "blobs")
	d, err := blob.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 10 {
		w, _ := d.Create(ctx)
		w.Write([]byte("x"))
		w.Commit(ctx)
	}
	filepath.Walk(parent, func(p string, info os.FileInfo, err error) error {
		if !strings.HasPrefix(p, root) && p != parent {
			t.Errorf("file outside the blob dir: %s", p)
		}
		return nil
	})
}
