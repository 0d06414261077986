package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Error is a load failure located in the export: File is the path inside the
// archive (or directory), Field the JSON path inside that file. Either may
// be empty when the problem is the archive itself.
type Error struct {
	Source string // the archive, directory or file name given to the loader
	File   string
	Field  string
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	for _, p := range []string{e.Source, e.File, e.Field} {
		if p != "" {
			b.WriteString(p)
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// errAt builds an *Error; the source is filled in by the entry points so the
// deep validation code need not carry it around.
func errAt(file, field, format string, args ...any) *Error {
	return &Error{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func withSource(err error, source string) error {
	var e *Error
	if errors.As(err, &e) && e.Source == "" {
		e.Source = source
		return e
	}
	return err
}

// jsonErr turns encoding/json's offsets into line:column, because a byte
// offset is useless to someone editing an indented export by hand.
func jsonErr(file string, data []byte, err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset is just past the offending byte; point at the byte itself.
		line, col := lineCol(data, syn.Offset-1)
		return &Error{File: file, Msg: fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, syn), Err: err}
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		return &Error{File: file, Field: typ.Field, Msg: fmt.Sprintf("at line %d, column %d: expected %v, got JSON %s", line, col, typ.Type, typ.Value), Err: err}
	}
	return &Error{File: file, Msg: "invalid JSON: " + err.Error(), Err: err}
}

func lineCol(data []byte, off int64) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col = 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
