package chat

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	cases := []struct {
		in   string
		want Status
		ok   bool
	}{
		{"open", StatusOpen, true}, {"0", StatusOpen, true}, {"Resolved", StatusResolved, true},
		{"2", StatusResolved, true}, {"spam", StatusSpam, true}, {"4", StatusDuplicate, true},
		{"unresponded", StatusUnresponded, true}, {"7", StatusWaiting, true}, {" waiting ", StatusWaiting, true},
		{"1", 0, false}, {"5", 0, false}, {"closed", 0, false}, {"", 0, false}, {"-1", 0, false},
	}
	for _, c := range cases {
		got, err := ParseStatus(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseStatus(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestStatusJSON(t *testing.T) {
	for in, want := range map[string]Status{`2`: StatusResolved, `"resolved"`: StatusResolved, `"7"`: StatusWaiting, `0`: StatusOpen} {
		var s Status
		if err := json.Unmarshal([]byte(in), &s); err != nil || s != want {
			t.Errorf("unmarshal %s = %v, %v; want %v", in, s, err, want)
		}
	}
	for _, in := range []string{`1`, `"nope"`, `true`, `{}`, `2.5`} {
		var s Status
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("unmarshal %s: want an error", in)
		}
	}
}

func TestCheckTransition(t *testing.T) {
	cases := []struct {
		from, to Status
		ok       bool
	}{
		{StatusOpen, StatusResolved, true},
		{StatusOpen, StatusWaiting, true},
		{StatusWaiting, StatusOpen, true},
		{StatusResolved, StatusOpen, true}, // reopen
		{StatusResolved, StatusResolved, true},
		{StatusResolved, StatusWaiting, false}, // must reopen first
		{StatusResolved, StatusUnresponded, false},
		{StatusSpam, StatusWaiting, false},
		{StatusSpam, StatusOpen, true},
		{StatusDuplicate, StatusOpen, true},
		{StatusOpen, Status(1), false},
		{StatusOpen, Status(99), false},
	}
	for _, c := range cases {
		err := CheckTransition(c.from, c.to)
		if (err == nil) != c.ok {
			t.Errorf("%v -> %v: err = %v, want ok=%v", c.from, c.to, err, c.ok)
		}
		if err != nil && c.to.Valid() && ErrorCode(err) != CodeConflict {
			t.Errorf("%v -> %v: code %s, want conflict", c.from, c.to, ErrorCode(err))
		}
	}
	// Every valid status can be reopened, and every status can be resolved
	// from the open states: no state is a trap.
	for _, s := range Statuses {
		if s != StatusOpen && CheckTransition(s, StatusOpen) != nil {
			t.Errorf("%v cannot be reopened", s)
		}
	}
}

func TestMetadataUnmarshal(t *testing.T) {
	var m Metadata
	in := `{"a":"x","templateId":"10","payload":[{"title":"t"}],"n":3,"b":true,"gone":null,"o":{"k":"v"}}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	want := Metadata{"a": "x", "templateId": "10", "payload": `[{"title":"t"}]`, "n": "3", "b": "true", "o": `{"k":"v"}`}
	if len(m) != len(want) {
		t.Fatalf("got %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	for _, bad := range []string{`[]`, `"x"`, `3`, `{"a":}`} {
		var m Metadata
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
	out, _ := json.Marshal(Metadata(nil))
	if string(out) != "{}" {
		t.Errorf("nil metadata marshals as %s", out)
	}
}

func TestMetadataValidate(t *testing.T) {
	many := Metadata{}
	for i := 0; i <= MaxMetadataKeys; i++ {
		many[strings.Repeat("k", i+1)] = "v"
	}
	cases := map[string]Metadata{
		"too many keys": many,
		"empty key":     {"": "v"},
		"long key":      {strings.Repeat("k", MaxMetadataKeyLen+1): "v"},
		"bad utf8":      {"k": "\xff"},
		"too big":       {"k": strings.Repeat("v", MaxMetadataBytes)},
	}
	for name, m := range cases {
		if err := m.Validate("metadata"); err == nil || ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: err = %v, want invalid", name, err)
		}
	}
	if err := (Metadata{"templateId": "3"}).Validate("metadata"); err != nil {
		t.Error(err)
	}
}

func TestNewMessageNormalize(t *testing.T) {
	contact := Sender{Type: SenderContact, ID: "c1"}
	cases := []struct {
		name     string
		m        NewMessage
		wantType ContentType
		field    string // "" means valid
	}{
		{"text", NewMessage{Sender: contact, Text: "hi"}, ContentText, ""},
		{"attachment inferred", NewMessage{Sender: contact, Attachments: []Attachment{{UploadID: "u1"}}}, ContentAttachment, ""},
		{"location inferred", NewMessage{Sender: contact, Location: &Location{Lat: 1, Lon: 2}}, ContentLocation, ""},
		{"rich without text", NewMessage{Sender: contact, Metadata: Metadata{MetaTemplateID: "6"}}, ContentText, ""},
		{"system notice", NewMessage{Sender: Sender{Type: SenderSystem}, Text: "Assigned", ContentType: ContentSystem}, ContentSystem, ""},
		{"empty", NewMessage{Sender: contact}, 0, "text"},
		{"bad sender", NewMessage{Sender: Sender{Type: "robot", ID: "x"}, Text: "hi"}, 0, "sender.type"},
		{"sender without id", NewMessage{Sender: Sender{Type: SenderAgent}, Text: "hi"}, 0, "sender.id"},
		{"unknown content type", NewMessage{Sender: contact, Text: "hi", ContentType: 9}, 0, "contentType"},
		{"contact posts system notice", NewMessage{Sender: contact, Text: "x", ContentType: ContentSystem}, 0, "contentType"},
		{"location type without location", NewMessage{Sender: contact, Text: "x", ContentType: ContentLocation}, 0, "location"},
		{"attachment type without files", NewMessage{Sender: contact, Text: "x", ContentType: ContentAttachment}, 0, "attachments"},
		{"location on html", NewMessage{Sender: contact, Text: "x", ContentType: ContentHTML, Location: &Location{}}, 0, "location"},
		{"off the globe", NewMessage{Sender: contact, Location: &Location{Lat: 91}}, 0, "location"},
		{"NaN", NewMessage{Sender: contact, Location: &Location{Lat: math.NaN()}}, 0, "location"},
		{"long text", NewMessage{Sender: contact, Text: strings.Repeat("a", MaxTextLen+1)}, 0, "text"},
		{"bad utf8", NewMessage{Sender: contact, Text: "\xff"}, 0, "text"},
		{"long client key", NewMessage{Sender: contact, Text: "x", ClientKey: strings.Repeat("k", MaxClientKeyLen+1)}, 0, "clientKey"},
		{"too many files", NewMessage{Sender: contact, Attachments: make([]Attachment, MaxAttachments+1)}, 0, "attachments"},
		{"bad upload id", NewMessage{Sender: contact, Attachments: []Attachment{{UploadID: "../x"}}}, 0, "attachments.uploadId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.m.Normalize()
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.m.ContentType != c.wantType {
					t.Fatalf("content type %d, want %d", c.m.ContentType, c.wantType)
				}
				return
			}
			var e *Error
			if err == nil || !asError(err, &e) || e.Code != CodeInvalid || e.Details["field"] != c.field {
				t.Fatalf("err = %v, want invalid field %s", err, c.field)
			}
		})
	}
}

func asError(err error, e **Error) bool {
	x, ok := err.(*Error)
	*e = x
	return ok
}

func TestValidators(t *testing.T) {
	for _, id := range []string{"", "a b", "../etc", strings.Repeat("a", MaxIDLen+1), "ü"} {
		if ValidateID("id", id) == nil {
			t.Errorf("ValidateID(%q) accepted", id)
		}
	}
	for _, tag := range []string{"en", "pt-BR", "es-419", "zh-Hant-TW"} {
		if ValidateLanguage(tag) != nil {
			t.Errorf("ValidateLanguage(%q) refused", tag)
		}
	}
	for _, tag := range []string{"e", "english!", "pt_BR", strings.Repeat("a-", 20)} {
		if ValidateLanguage(tag) == nil {
			t.Errorf("ValidateLanguage(%q) accepted", tag)
		}
	}
	if e, err := NormalizeEmail("email", " Ada@Example.COM "); err != nil || e != "ada@example.com" {
		t.Errorf("NormalizeEmail = %q, %v", e, err)
	}
	for _, bad := range []string{"nope", "Ada <ada@example.com>", "a@"} {
		if _, err := NormalizeEmail("email", bad); err == nil {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
	for _, bad := range []string{`[]`, `"x"`, `{"a":`} {
		if ValidateChatContext(json.RawMessage(bad)) == nil {
			t.Errorf("ValidateChatContext(%s) accepted", bad)
		}
	}
	if ValidateChatContext(json.RawMessage(`{"plan":"pro"}`)) != nil || ValidateChatContext(nil) != nil {
		t.Error("valid chat context refused")
	}
	if ValidateName("name", "two\nlines", false) == nil || ValidateName("name", "", true) == nil {
		t.Error("bad name accepted")
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	seen := map[string]bool{}
	var ids []string
	for i := 0; i < 2000; i++ {
		id := NewID()
		if len(id) != 26 || ValidateID("id", id) != nil || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	// Ids made in later milliseconds sort later.
	first, last := ids[0], NewID()
	if first[:10] > last[:10] || !sort.StringsAreSorted([]string{first[:10], last[:10]}) {
		t.Fatalf("ids do not sort by time: %s then %s", first, last)
	}
}

func TestRoles(t *testing.T) {
	if !RoleOwner.AtLeast(RoleAdmin) || !RoleAdmin.AtLeast(RoleAgent) || RoleAgent.AtLeast(RoleAdmin) || Role("x").AtLeast(RoleAgent) {
		t.Fatal("role order is wrong")
	}
}

func TestInboxKindFor(t *testing.T) {
	base := Conversation{Status: StatusOpen, Metadata: Metadata{"a": "1"}}
	with := func(f func(c *Conversation)) *Conversation {
		c := base
		c.Metadata = base.Metadata.Clone()
		f(&c)
		return &c
	}
	cases := []struct {
		name  string
		after *Conversation
		kind  InboxKind
		ok    bool
	}{
		{"nothing", with(func(*Conversation) {}), "", false},
		{"assigned", with(func(c *Conversation) { c.Assignee = &Assignee{Type: AssigneeAgent, ID: "a1"} }), InboxAssigned, true},
		{"assigned and resolved", with(func(c *Conversation) {
			c.Assignee = &Assignee{Type: AssigneeBot, ID: "b1"}
			c.Status = StatusResolved
		}), InboxAssigned, true},
		{"resolved", with(func(c *Conversation) { c.Status = StatusResolved }), InboxStatusChanged, true},
		{"team", with(func(c *Conversation) { c.TeamID = "t1" }), InboxUpdated, true},
		{"metadata", with(func(c *Conversation) { c.Metadata["a"] = "2" }), InboxUpdated, true},
		{"metadata key added", with(func(c *Conversation) { c.Metadata["b"] = "1" }), InboxUpdated, true},
	}
	for _, c := range cases {
		kind, ok := InboxKindFor(&base, c.after)
		if kind != c.kind || ok != c.ok {
			t.Errorf("%s: got (%q, %v), want (%q, %v)", c.name, kind, ok, c.kind, c.ok)
		}
	}
}

func TestJSONFieldPath(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"title":         "title",
		"items.title":   "items.title",
		"items.0.title": "items.title",
		"0.title":       "title",
		"a.12.b.3":      "a.b",
		"v2.name":       "v2.name",
	} {
		if got := JSONFieldPath(in); got != want {
			t.Errorf("JSONFieldPath(%q) = %q, want %q", in, got, want)
		}
	}
}
