package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// limits bound what an export may cost to load. Exports come from users'
// uploads, so every dimension an attacker controls is capped.
type limits struct {
	maxTotal   int64 // bytes read across all files
	maxFile    int64 // bytes read from one file
	maxEntries int   // entries in an archive or directory tree
	// maxRatio caps uncompressed/compressed per zip entry (zip bombs);
	// ratioSlack lets small, very regular files through.
	maxRatio   int64
	ratioSlack int64
}

var defaultLimits = limits{
	maxTotal:   32 << 20,
	maxFile:    4 << 20,
	maxEntries: 10000,
	maxRatio:   100,
	ratioSlack: 64 << 10,
}

// Load loads a bot from path: a V2 export zip, an unzipped V2 export
// directory, or a V1 export JSON file. Files are told apart by content, not
// by extension, because exports get renamed.
func Load(p string) (*Bot, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return LoadDir(p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")) {
		return LoadZip(f, st.Size(), p)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	for {
		c, err := br.ReadByte()
		if err != nil {
			return nil, &Error{Source: p, Msg: "neither a zip archive nor a JSON document"}
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if c != '{' {
			return nil, &Error{Source: p, Msg: "neither a zip archive nor a JSON document"}
		}
		if err := br.UnreadByte(); err != nil {
			return nil, err
		}
		return LoadV1(br, p)
	}
}

// LoadZip loads a V2 LexJson export archive. name only labels errors.
func LoadZip(r io.ReaderAt, size int64, name string) (*Bot, error) {
	return loadZip(r, size, name, defaultLimits)
}

func loadZip(r io.ReaderAt, size int64, name string, lim limits) (*Bot, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, &Error{Source: name, Msg: "not a readable zip archive: " + err.Error(), Err: err}
	}
	zfs, err := checkZip(zr, lim)
	if err != nil {
		return nil, withSource(err, name)
	}
	bot, err := loadFS(zfs, lim)
	if err != nil {
		return nil, withSource(err, name)
	}
	return bot, nil
}

// LoadFS loads an unzipped V2 export from fsys, for bots embedded in the
// binary (the demo bot). name only labels errors.
func LoadFS(fsys fs.FS, name string) (*Bot, error) {
	bot, err := loadFS(fsys, defaultLimits)
	if err != nil {
		return nil, withSource(err, name)
	}
	return bot, nil
}

// LoadDir loads an unzipped V2 export. It reads through os.Root so that a
// symlink (or "..") inside the tree can never reach outside dir.
func LoadDir(dir string) (*Bot, error) {
	return loadDir(dir, defaultLimits)
}

func loadDir(dir string, lim limits) (*Bot, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	bot, err := loadFS(root.FS(), lim)
	if err != nil {
		return nil, withSource(err, dir)
	}
	return bot, nil
}

// checkZip vets the central directory before anything is decompressed:
// names, duplicates, entry types, count and declared sizes. Declared sizes
// are only a cheap early refusal; the real bounds are enforced while reading.
func checkZip(zr *zip.Reader, lim limits) (fs.FS, error) {
	if len(zr.File) > lim.maxEntries {
		return nil, errAt("", "", "archive has %d entries, more than the limit of %d", len(zr.File), lim.maxEntries)
	}
	seen := make(map[string]bool, len(zr.File))
	files := make(map[string]bool, len(zr.File))
	compressed := make(map[string]uint64, len(zr.File))
	var declared uint64
	for _, f := range zr.File {
		if err := checkName(f.Name); err != nil {
			return nil, err
		}
		isDir := strings.HasSuffix(f.Name, "/")
		clean := strings.TrimSuffix(f.Name, "/")
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return nil, errAt(f.Name, "", "symbolic links are not allowed in an export")
		case isDir != mode.IsDir(), !isDir && !mode.IsRegular():
			return nil, errAt(f.Name, "", "not a regular file or directory (mode %v)", mode)
		}
		if seen[clean] {
			return nil, errAt(f.Name, "", "duplicate entry")
		}
		seen[clean] = true
		if isDir {
			continue
		}
		files[clean] = true
		if f.UncompressedSize64 > uint64(lim.maxFile) {
			return nil, errAt(f.Name, "", "file is %d bytes, more than the limit of %d", f.UncompressedSize64, lim.maxFile)
		}
		declared += f.UncompressedSize64
		if declared > uint64(lim.maxTotal) {
			return nil, errAt("", "", "archive expands to more than the limit of %d bytes", lim.maxTotal)
		}
		compressed[clean] = f.CompressedSize64
	}
	// A file "a" next to "a/b" would let the two readers of this archive
	// (ours, and a later unzip by a person) disagree about what "a" is.
	for name := range seen {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if files[dir] {
				return nil, errAt(name, "", "%q is both a file and a directory", dir)
			}
		}
	}
	return &zipFS{r: zr, compressed: compressed, lim: lim}, nil
}

// checkName refuses entry names that could escape an extraction directory or
// mean different files on different systems.
func checkName(name string) error {
	switch {
	case name == "":
		return errAt(name, "", "empty entry name")
	case strings.ContainsRune(name, '\\'):
		return errAt(name, "", "backslash in entry name (path traversal on Windows)")
	case strings.HasPrefix(name, "/"):
		return errAt(name, "", "absolute entry name")
	case strings.ContainsAny(name, ":\x00"):
		return errAt(name, "", "drive letter, colon or NUL in entry name")
	}
	clean := strings.TrimSuffix(name, "/")
	for _, seg := range strings.Split(clean, "/") {
		if seg == ".." {
			return errAt(name, "", "path traversal (\"..\") in entry name")
		}
	}
	if !fs.ValidPath(clean) {
		return errAt(name, "", "entry name is not a clean relative path")
	}
	return nil
}

// zipFS is the archive as an fs.FS whose files stop reading once they expand
// beyond maxRatio times their compressed size: the header's sizes are the
// attacker's to choose, the bytes coming out of the decompressor are not.
type zipFS struct {
	r          *zip.Reader
	compressed map[string]uint64
	lim        limits
}

func (z *zipFS) Open(name string) (fs.File, error) {
	f, err := z.r.Open(name)
	if err != nil {
		return nil, err
	}
	c, ok := z.compressed[name]
	if !ok {
		return f, nil // a directory
	}
	budget := z.lim.ratioSlack
	if c < uint64(z.lim.maxFile) { // keeps the multiplication from overflowing
		budget += int64(c) * z.lim.maxRatio
	} else {
		budget += z.lim.maxFile
	}
	return &ratioFile{File: f, left: budget, ratio: z.lim.maxRatio}, nil
}

type ratioFile struct {
	fs.File
	left  int64
	ratio int64
}

func (f *ratioFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.left -= int64(n)
	if f.left < 0 {
		return n, fmt.Errorf("expands more than %d times its compressed size (zip bomb?)", f.ratio)
	}
	return n, err
}

// reader reads an export's files within the limits, and turns JSON
// problems into located errors.
type reader struct {
	fsys  fs.FS
	lim   limits
	total int64
}

func (r *reader) read(name string) ([]byte, error) {
	f, err := r.fsys.Open(name)
	if err != nil {
		return nil, errAt(name, "", "cannot open: %v", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, errAt(name, "", "cannot stat: %v", err)
	}
	if !st.Mode().IsRegular() {
		return nil, errAt(name, "", "not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, r.lim.maxFile+1))
	if err != nil {
		return nil, &Error{File: name, Msg: "cannot read: " + err.Error(), Err: err}
	}
	if int64(len(data)) > r.lim.maxFile {
		return nil, errAt(name, "", "file is larger than the limit of %d bytes", r.lim.maxFile)
	}
	r.total += int64(len(data))
	if r.total > r.lim.maxTotal {
		return nil, errAt(name, "", "export expands to more than the limit of %d bytes", r.lim.maxTotal)
	}
	return data, nil
}

func (r *reader) decode(name string, v any) error {
	data, err := r.read(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return jsonErr(name, data, err)
	}
	return nil
}

// listFiles walks the export once, refusing symlinks and special files and
// bounding the entry count, and returns its regular files.
func listFiles(fsys fs.FS, lim limits) ([]string, error) {
	var files []string
	entries := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return errAt(p, "", "cannot list: %v", err)
		}
		if p == "." {
			return nil
		}
		entries++
		if entries > lim.maxEntries {
			return errAt("", "", "export has more than the limit of %d entries", lim.maxEntries)
		}
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			return errAt(p, "", "symbolic links are not allowed in an export")
		case t.IsDir():
		case !t.IsRegular():
			return errAt(p, "", "not a regular file or directory")
		default:
			files = append(files, p)
		}
		return nil
	})
	return files, err
}
