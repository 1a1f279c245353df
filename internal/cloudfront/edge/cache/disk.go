package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// writeToDisk returns a copy of e whose body is a new file of the disk
// tier, opened for reading. The file is the copy's alone: e, which the
// caller may be serving from, keeps its body untouched, and dropping either
// never takes the other's file.
func (c *Cache) writeToDisk(e *Entry) (*Entry, error) {
	name := filepath.Join(c.diskDir, strconv.FormatUint(c.diskSeq.Add(1), 36))
	f, err := c.createFile(name, e)
	if err != nil {
		os.Remove(name)
		return nil, fmt.Errorf("cache: disk tier: %w", err)
	}
	stored := *e
	stored.body = nil
	stored.file = f
	return &stored, nil
}

// createFile makes name hold e's body. A body already on disk (an entry
// renewed by a 304) is linked rather than copied while its file still has
// a name.
func (c *Cache) createFile(name string, e *Entry) (*os.File, error) {
	if e.onDisk() && os.Link(e.file.Name(), name) == nil {
		return os.Open(name)
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := e.WriteTo(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// releaseFile unlinks the file of an entry that left the disk tier. The
// descriptor stays open, so viewers still reading the entry finish their
// responses; os.File closes it once the last of them drops the Entry.
func releaseFile(it *item) {
	if f := it.entry.file; f != nil {
		os.Remove(f.Name())
	}
}
