package secretbox

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	box, err := LoadOrCreate(filepath.Join(t.TempDir(), "key"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		plaintext []byte
	}{
		{"empty", nil},
		{"text", []byte("hunter2")},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}},
		{"large", bytes.Repeat([]byte("x"), 65536)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed := box.Seal(tt.plaintext, []byte("ctx"))
			if len(tt.plaintext) > 0 && bytes.Contains(sealed, tt.plaintext) {
				t.Errorf("sealed value contains the plaintext")
			}
			got, err := box.Open(sealed, []byte("ctx"))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("got %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestSealIsRandomized(t *testing.T) {
	box, err := New(make([]byte, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	a, b := box.Seal([]byte("same"), nil), box.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Errorf("two seals of the same value are equal: nonces are reused")
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	box, err := LoadOrCreate(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadOrCreate(filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	sealed := box.Seal([]byte("secret"), []byte("param/a"))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name    string
		box     *Box
		sealed  []byte
		context string
	}{
		{"other key", other, sealed, "param/a"},
		{"other context", box, sealed, "param/b"},
		{"tampered", box, tampered, "param/a"},
		{"truncated", box, sealed[:10], "param/a"},
		{"empty", box, nil, "param/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.box.Open(tt.sealed, []byte(tt.context)); !errors.Is(err, ErrOpen) {
				t.Errorf("got %v, want ErrOpen", err)
			}
		})
	}
}

func TestKeyFileCreatedOnceAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secretbox.key")
	first, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode: got %v, want 0600", got)
	}
	key, _ := os.ReadFile(path)
	sealed := first.Seal([]byte("v"), nil)

	second, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := second.Open(sealed, nil); err != nil || string(got) != "v" {
		t.Errorf("reloaded key: got %q, %v; want the value sealed before", got, err)
	}
	again, _ := os.ReadFile(path)
	if !bytes.Equal(key, again) {
		t.Errorf("the key file changed when it was loaded again")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("got %d files in the dir, want only the key (temporary files left behind?)", len(entries))
	}
}

func TestConcurrentCreatorsAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	boxes := make([]*Box, 8)
	var wg sync.WaitGroup
	for i := range boxes {
		wg.Go(func() {
			b, err := LoadOrCreate(path)
			if err != nil {
				t.Error(err)
				return
			}
			boxes[i] = b
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	sealed := boxes[0].Seal([]byte("v"), nil)
	for i, b := range boxes {
		if _, err := b.Open(sealed, nil); err != nil {
			t.Errorf("box %d uses another key: %v", i, err)
		}
	}
}

func TestLoadRejectsBadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path); err == nil {
		t.Errorf("got nil, want an error for a 5-byte key file")
	}
}
