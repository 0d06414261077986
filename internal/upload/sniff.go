package upload

import (
	"bytes"
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// SniffLen is how much of a file's start Sniff needs to see. Pass at least
// this much (less only when the file is shorter).
const SniffLen = 512

// Media types Switchboard names; the refused ones exist to make error
// messages specific.
const (
	typePNG       = "image/png"
	typeJPEG      = "image/jpeg"
	typeGIF       = "image/gif"
	typeWebP      = "image/webp"
	typeSVG       = "image/svg+xml"
	typePDF       = "application/pdf"
	typeText      = "text/plain"
	typeCSV       = "text/csv"
	typeTSV       = "text/tab-separated-values"
	typeMarkdown  = "text/markdown"
	typeHTML      = "text/html"
	typeXML       = "text/xml"
	typeMP3       = "audio/mpeg"
	typeOggAudio  = "audio/ogg"
	typeWAV       = "audio/wav"
	typeWebMAudio = "audio/webm"
	typeM4A       = "audio/mp4"
	typeMP4       = "video/mp4"
	typeWebM      = "video/webm"
	typeMOV       = "video/quicktime"
	typeZip       = "application/zip"
	typeDOCX      = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	typeXLSX      = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	typePPTX      = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	typeODT       = "application/vnd.oasis.opendocument.text"
	typeODS       = "application/vnd.oasis.opendocument.spreadsheet"
	typeODP       = "application/vnd.oasis.opendocument.presentation"
	typeELF       = "application/x-executable"
	typePE        = "application/vnd.microsoft.portable-executable"
	typeMachO     = "application/x-mach-binary"
	typeJavaClass = "application/java-vm"
	typeWasm      = "application/wasm"
	typeScript    = "text/x-shellscript"
	typeUnknown   = "application/octet-stream"
)

// accepted is the deliberate list of what may be stored. Everything here is
// inert when served with its own type and nosniff: no format that a browser
// executes (HTML, SVG, XML with stylesheets, scripts) and no native code.
var accepted = map[string]bool{
	typePNG: true, typeJPEG: true, typeGIF: true, typeWebP: true,
	typePDF: true, typeText: true,
	typeMP3: true, typeOggAudio: true, typeWAV: true, typeM4A: true,
	typeMP4: true, typeWebM: true, typeMOV: true,
	typeZip: true, typeDOCX: true, typeXLSX: true, typePPTX: true,
	typeODT: true, typeODS: true, typeODP: true,
	// Never detected, only reached by refining a detected type with a
	// compatible claim; listed so that stored uploads of them are served.
	typeCSV: true, typeTSV: true, typeMarkdown: true, typeWebMAudio: true,
}

// byExt is what a file name claims. It is a fixed table rather than
// mime.TypeByExtension, whose answers depend on the host's mime.types.
var byExt = map[string]string{
	".png": typePNG, ".jpg": typeJPEG, ".jpeg": typeJPEG, ".jpe": typeJPEG, ".jfif": typeJPEG,
	".gif": typeGIF, ".webp": typeWebP, ".pdf": typePDF,
	".txt": typeText, ".text": typeText, ".log": typeText, ".md": typeMarkdown, ".markdown": typeMarkdown,
	".csv": typeCSV, ".tsv": typeTSV,
	".mp3": typeMP3, ".ogg": typeOggAudio, ".oga": typeOggAudio, ".opus": typeOggAudio,
	".wav": typeWAV, ".weba": typeWebMAudio, ".m4a": typeM4A,
	".mp4": typeMP4, ".m4v": typeMP4, ".webm": typeWebM, ".mov": typeMOV, ".qt": typeMOV,
	".zip": typeZip, ".docx": typeDOCX, ".xlsx": typeXLSX, ".pptx": typePPTX,
	".odt": typeODT, ".ods": typeODS, ".odp": typeODP,
}

// dangerousExt are names that an operating system or browser would run or
// render as active content when a downloaded file is opened, whatever its
// bytes are. Many are plain text, which is why content sniffing alone does
// not catch them.
var dangerousExt = map[string]bool{
	".html": true, ".htm": true, ".xhtml": true, ".shtml": true, ".mht": true, ".mhtml": true,
	".svg": true, ".svgz": true, ".xml": true, ".xsl": true, ".xslt": true,
	".js": true, ".mjs": true, ".cjs": true, ".jse": true, ".vbs": true, ".vbe": true, ".wsf": true, ".wsh": true,
	".hta": true, ".ps1": true, ".psm1": true, ".bat": true, ".cmd": true, ".sh": true, ".bash": true,
	".zsh": true, ".command": true, ".py": true, ".pl": true, ".rb": true, ".php": true,
	".exe": true, ".dll": true, ".scr": true, ".com": true, ".msi": true, ".msp": true, ".cpl": true,
	".sys": true, ".lnk": true, ".reg": true, ".inf": true, ".jar": true, ".apk": true, ".app": true,
	".dmg": true, ".pkg": true, ".deb": true, ".rpm": true, ".appimage": true, ".swf": true,
}

// aliases maps the other names browsers and operating systems send for an
// accepted type to the one used here.
var aliases = map[string]string{
	"image/jpg": typeJPEG, "image/pjpeg": typeJPEG,
	"audio/mp3": typeMP3, "audio/x-mp3": typeMP3, "audio/mpeg3": typeMP3, "audio/x-mpeg": typeMP3,
	"audio/x-wav": typeWAV, "audio/wave": typeWAV, "audio/vnd.wave": typeWAV,
	"audio/opus": typeOggAudio, "audio/vorbis": typeOggAudio, "application/ogg": typeOggAudio,
	"audio/x-m4a": typeM4A, "audio/m4a": typeM4A, "video/x-m4v": typeMP4,
	"application/x-zip-compressed": typeZip, "application/x-zip": typeZip, "multipart/x-zip": typeZip,
	"application/csv": typeCSV, "text/x-csv": typeCSV, "text/comma-separated-values": typeCSV,
	// Windows browsers send this for .csv whenever Excel is installed.
	"application/vnd.ms-excel": typeCSV,
	"text/x-markdown":          typeMarkdown,
	"text/x-log":               typeText,
	"application/x-pdf":        typePDF,
}

// family groups types that may legitimately stand for one another: a claim
// in the same family as the content is not a contradiction.
func family(t string) string {
	switch t {
	case typeText, typeCSV, typeTSV, typeMarkdown:
		return "text"
	case typeZip, typeDOCX, typeXLSX, typePPTX, typeODT, typeODS, typeODP:
		return "zip"
	case typeWebM, typeWebMAudio:
		return "webm"
	case typeMP4, typeM4A, typeMOV: // all ISO base media files
		return "isobmff"
	}
	return ""
}

func compatible(claim, detected string) bool {
	return claim == detected || family(claim) != "" && family(claim) == family(detected)
}

// Sniff decides what a file is from head, its first SniffLen bytes, and
// checks that against what the client said: the declared Content-Type and
// the name's extension. It returns the media type to store and serve.
//
// Refusals are CodeUnsupported: content that is not on the accepted list
// (HTML, SVG, XML, scripts, native executables, unknown binaries), names
// that would run when opened, and claims that contradict the content, the
// classic way of smuggling a page or a program past a filter that trusts
// names.
func Sniff(name, declaredType string, head []byte) (string, error) {
	detected := detect(head)
	base, params, _ := strings.Cut(detected, ";")

	declared, err := declaredClaim(declaredType)
	if err != nil {
		return "", err
	}
	if declared != "" && !compatible(declared, base) {
		return "", contradiction(base, declared)
	}
	ext := strings.ToLower(path.Ext(SanitizeName(name)))
	extClaim := byExt[ext]
	if extClaim != "" && !compatible(extClaim, base) {
		return "", contradiction(base, "a "+ext+" file")
	}
	if dangerousExt[ext] {
		return "", chat.Errorf(chat.CodeUnsupported, "%s files are not accepted: they can run as programs or active web content", ext).
			WithDetail("detected", base)
	}
	if !accepted[base] {
		return "", chat.Errorf(chat.CodeUnsupported, "files of type %s are not accepted", base).
			WithDetail("detected", base)
	}
	if base == typeText && ext != "" && extClaim == "" {
		// Scripts are text too; only names that open in a text viewer are
		// safe to hand out.
		return "", chat.Errorf(chat.CodeUnsupported, "text files are accepted only as .txt, .csv, .tsv, .log or .md, not %s", ext).
			WithDetail("detected", base)
	}

	// The content decides the type; a compatible claim only refines it where
	// bytes alone cannot tell (a .docx is a zip, a voice note is a webm).
	if !specific(base) {
		for _, claim := range []string{extClaim, declared} {
			if claim != "" && claim != base && family(claim) == family(base) {
				base = claim
				break
			}
		}
	}
	if params != "" {
		return base + ";" + params, nil
	}
	return base, nil
}

// specific reports whether detection already found the precise type, which
// a claim must not override.
func specific(t string) bool {
	switch t {
	case typeDOCX, typeXLSX, typePPTX, typeODT, typeODS, typeODP, typeM4A, typeMOV:
		return true
	}
	return false
}

func declaredClaim(declaredType string) (string, error) {
	if strings.TrimSpace(declaredType) == "" {
		return "", nil
	}
	t, _, err := mime.ParseMediaType(declaredType)
	if err != nil {
		return "", chat.FieldError("contentType", "the declared content type is not a valid media type")
	}
	switch t {
	case typeUnknown, "binary/octet-stream", "application/unknown":
		// What clients send when they do not know: no claim at all.
		return "", nil
	}
	if a, ok := aliases[t]; ok {
		t = a
	}
	return t, nil
}

func contradiction(detected, claim string) error {
	return chat.Errorf(chat.CodeUnsupported, "the file's content is %s but it claims to be %s", detected, claim).
		WithDetail("detected", detected)
}

// detect names the content. Executables and markup are checked before
// anything else so that they are named as what they are.
func detect(b []byte) string {
	has := func(off int, sig string) bool {
		return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
	}
	switch {
	case has(0, "\x7fELF"):
		return typeELF
	case has(0, "MZ"):
		return typePE
	case has(0, "\xfe\xed\xfa\xce"), has(0, "\xfe\xed\xfa\xcf"), has(0, "\xce\xfa\xed\xfe"), has(0, "\xcf\xfa\xed\xfe"):
		return typeMachO
	case has(0, "\xca\xfe\xba\xbe"): // Java class, or a universal Mach-O
		return typeJavaClass
	case has(0, "\x00asm"):
		return typeWasm
	case has(0, "#!"):
		return typeScript
	case has(0, "%PDF-"):
		return typePDF
	case has(4, "ftyp"):
		switch string(b[8:min(len(b), 12)]) {
		case "qt  ":
			return typeMOV
		case "M4A ", "M4B ":
			return typeM4A
		case "heic", "heix", "hevc", "mif1", "msf1", "avif", "avis":
			return "image/heic" // still images; not accepted (yet)
		}
		return typeMP4
	case has(4, "moov"), has(4, "mdat"), has(4, "wide"):
		// QuickTime files from older cameras start without an ftyp box.
		return typeMOV
	case has(0, "RIFF") && has(8, "WEBP"):
		return typeWebP
	case has(0, "RIFF") && has(8, "WAVE"):
		return typeWAV
	case has(0, "OggS"):
		if bytes.Contains(b, []byte("OpusHead")) || bytes.Contains(b, []byte("\x01vorbis")) || bytes.Contains(b, []byte("\x7fFLAC")) {
			return typeOggAudio
		}
		return "video/ogg"
	case has(0, "\x1a\x45\xdf\xa3"):
		if bytes.Contains(b, []byte("webm")) {
			return typeWebM
		}
		return "video/x-matroska"
	case has(0, "ID3"), isMP3Frame(b):
		return typeMP3
	case has(0, "PK\x03\x04"), has(0, "PK\x05\x06"):
		return detectZip(b)
	}
	ct := http.DetectContentType(b)
	base, _, _ := strings.Cut(ct, ";")
	switch base {
	case "audio/wave":
		return typeWAV
	case typeText, typeHTML, typeXML:
		return detectText(b, ct)
	}
	return ct
}

// isMP3Frame recognises an MPEG audio frame header (files without an ID3
// tag start with one): 11 sync bits, a valid layer, bitrate and sample rate.
// ADTS AAC shares the sync bits but has layer 0, so it is not matched.
func isMP3Frame(b []byte) bool {
	return len(b) >= 3 && b[0] == 0xff && b[1]&0xe0 == 0xe0 &&
		(b[1]>>3)&3 != 1 && // version: 1 is reserved
		(b[1]>>1)&3 != 0 && // layer: 0 is reserved
		b[2]>>4 != 15 && (b[2]>>2)&3 != 3
}

// detectZip tells office documents from plain archives where the head shows
// it: ODF stores an uncompressed "mimetype" entry first by rule; OOXML's
// part names usually appear in the first entries.
func detectZip(b []byte) string {
	if len(b) > 38 && string(b[30:38]) == "mimetype" {
		switch {
		case bytes.HasPrefix(b[38:], []byte(typeODT)):
			return typeODT
		case bytes.HasPrefix(b[38:], []byte(typeODS)):
			return typeODS
		case bytes.HasPrefix(b[38:], []byte(typeODP)):
			return typeODP
		}
	}
	switch {
	case bytes.Contains(b, []byte("word/")):
		return typeDOCX
	case bytes.Contains(b, []byte("xl/")):
		return typeXLSX
	case bytes.Contains(b, []byte("ppt/")):
		return typePPTX
	}
	return typeZip
}

// detectText separates plain text from markup. DetectContentType finds
// common HTML and XML openings, but not SVG without a prolog, nor markup
// behind a comment or an unusual first tag; anything that opens with '<'
// is treated as markup, since a false refusal is cheap and a stored page is
// not.
func detectText(b []byte, ct string) string {
	t := bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	t = bytes.TrimLeftFunc(t, unicode.IsSpace)
	lower := bytes.ToLower(t)
	switch {
	case bytes.Contains(lower, []byte("<svg")):
		return typeSVG
	case strings.HasPrefix(ct, typeHTML):
		return typeHTML
	case strings.HasPrefix(ct, typeXML):
		return typeXML
	case bytes.HasPrefix(t, []byte("<")):
		return typeHTML
	}
	return ct
}

const maxNameLen = 200

// SanitizeName makes a client's file name safe to store and to show: only
// the last path element, no control or invisible formatting characters
// (a right-to-left override can make "gpj.exe" read as "exe.jpg"), none of
// the characters Windows forbids, no leading or trailing dots and spaces,
// and at most 200 bytes with the extension kept. An empty result becomes
// "file".
func SanitizeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if len(name) > maxNameLen {
		ext := path.Ext(name)
		if len(ext) > 20 {
			ext = ""
		}
		stem := name[:maxNameLen-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = strings.TrimRight(stem, " .") + ext
	}
	if name == "" {
		return "file"
	}
	return name
}
