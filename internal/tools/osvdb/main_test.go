package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBuild(t *testing.T) {
	src, out := t.TempDir(), t.TempDir()
	reports := map[string]string{
		"GO-2026-0001.json": `{"id":"GO-2026-0001","modified":"2026-01-02T00:00:00Z","affected":[{"package":{"name":"example.com/a"}},{"package":{"name":"example.com/a"}},{"package":{"name":"stdlib"}}]}`,
		"GO-2026-0002.json": `{"id":"GO-2026-0002","modified":"2026-03-04T00:00:00Z","affected":[{"package":{"name":"example.com/a"}}]}`,
	}
	for name, body := range reports {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := build(src, out)
	if err != nil || n != 2 {
		t.Fatalf("build: %d, %v", n, err)
	}
	for name, body := range reports {
		got, err := os.ReadFile(filepath.Join(out, "ID", name))
		if err != nil || string(got) != body {
			t.Errorf("ID/%s: %q, %v", name, got, err)
		}
	}
	var modules []moduleMeta
	readJSON(t, filepath.Join(out, "index", "modules.json"), &modules)
	if len(modules) != 2 || modules[0].Path != "example.com/a" || modules[1].Path != "stdlib" {
		t.Fatalf("modules %+v", modules)
	}
	if v := modules[0].Vulns; len(v) != 2 || v[0].ID != "GO-2026-0001" || v[1].ID != "GO-2026-0002" {
		t.Errorf("example.com/a vulns %+v", v)
	}
	var db struct {
		Modified time.Time `json:"modified"`
	}
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	if !db.Modified.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("db modified %v", db.Modified)
	}

	// A report whose id would escape the ID directory is refused.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x.json"), []byte(`{"id":"../evil"}`), 0o644)
	if _, err := build(bad, t.TempDir()); err == nil {
		t.Error("a path in a report id was accepted")
	}
	if _, err := build(t.TempDir(), t.TempDir()); err == nil {
		t.Error("an empty source was accepted")
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}
