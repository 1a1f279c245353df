// Package secretbox encrypts values at rest under one local key, the stand-in
// for the KMS keys that protect SSM SecureString parameters and Secrets
// Manager secrets on AWS. The key is 32 random bytes in a file of the data
// dir, created on first use and reused after every restart: losing the file
// loses every value sealed with it, as deleting a KMS key would.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// KeySize is the size of the key: AES-256.
const KeySize = 32

// format is the first byte of every sealed value, so that a later key
// rotation or cipher change can tell old values from new ones.
const format byte = 1

// ErrOpen means a sealed value could not be opened: it was sealed under
// another key or another context, or it was altered.
var ErrOpen = errors.New("secretbox: cannot open value: wrong key, wrong context or corrupted data")

// Box seals and opens values with AES-256-GCM. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box using key, which must be KeySize bytes.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// LoadOrCreate returns a Box using the key in the file at path, creating
// the file with a new random key (mode 0600) when it does not exist.
func LoadOrCreate(path string) (*Box, error) {
	key, err := LoadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	return New(key)
}

// LoadOrCreateKey returns the KeySize random bytes kept in the file at
// path, creating the file (mode 0600) the first time. Other keys of the
// data dir (ECR's token key) are kept the same way.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key, err = createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("secretbox: key file: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secretbox: key file %s is %d bytes, want %d: it is not a key overcast wrote", path, len(key), KeySize)
	}
	return key, nil
}

// createKey writes a new key to path. The key is written to a temporary
// file first and linked into place, so a crash never leaves a truncated key
// behind, and of two racing creators exactly one wins; the loser reads the
// winner's key.
func createKey(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	rand.Read(key)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secretbox-*.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return os.ReadFile(path)
		}
		return nil, err
	}
	return key, nil
}

// Seal encrypts plaintext. context is authenticated but not stored: Open
// needs the same context, which binds a value to the record it belongs to
// (a sealed value copied into another parameter does not open there).
func (b *Box) Seal(plaintext, context []byte) []byte {
	n := b.aead.NonceSize()
	out := make([]byte, 1+n, 1+n+len(plaintext)+b.aead.Overhead())
	out[0] = format
	rand.Read(out[1:])
	return b.aead.Seal(out, out[1:], plaintext, context)
}

// Open decrypts a value Seal returned for the same context.
func (b *Box) Open(sealed, context []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != format {
		return nil, ErrOpen
	}
	plaintext, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], context)
	if err != nil {
		return nil, ErrOpen
	}
	return plaintext, nil
}
