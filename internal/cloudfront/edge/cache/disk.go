package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// writeToDisk returns a copy of e whose body is a file of the disk tier,
// opened for reading. The file is the copy's from then on: e, which the
// caller may be serving from, keeps its memory body untouched.
func (c *Cache) writeToDisk(e *Entry) (*Entry, error) {
	name := filepath.Join(c.diskDir, strconv.FormatUint(c.diskSeq.Add(1), 36))
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache: disk tier: %w", err)
	}
	if _, err := f.Write(e.body); err != nil {
		f.Close()
		os.Remove(name)
		return nil, fmt.Errorf("cache: disk tier: %w", err)
	}
	stored := *e
	stored.body = nil
	stored.file = f
	return &stored, nil
}

// releaseFile unlinks the file of an entry that left the disk tier. The
// descriptor stays open, so viewers still reading the entry finish their
// responses; os.File closes it once the last of them drops the Entry.
func releaseFile(it *item) {
	if f := it.entry.file; f != nil {
		os.Remove(f.Name())
	}
}
