package chat

import (
	"strings"
	"testing"
)

func TestCannedReplyValidate(t *testing.T) {
	ok := []struct{ in, want string }{
		{"/hello", "/hello"}, {"hello", "/hello"}, {" /Refund_Policy ", "/refund_policy"}, {"/a-1", "/a-1"},
		{"/" + strings.Repeat("x", MaxShortcutLen-1), "/" + strings.Repeat("x", MaxShortcutLen-1)},
	}
	for _, c := range ok {
		r := CannedReply{Shortcut: c.in, Text: " Hi "}
		if err := r.Validate(); err != nil || r.Shortcut != c.want || r.Text != "Hi" {
			t.Errorf("Validate(%q) = %v, shortcut %q text %q", c.in, err, r.Shortcut, r.Text)
		}
	}
	bad := []struct{ shortcut, text, field string }{
		{"", "x", "shortcut"}, {"/", "x", "shortcut"}, {"/a b", "x", "shortcut"}, {"/é", "x", "shortcut"},
		{"//x", "x", "shortcut"}, {"/" + strings.Repeat("x", MaxShortcutLen), "x", "shortcut"},
		{"/x", " \n ", "text"}, {"/x", strings.Repeat("a", MaxTextLen+1), "text"}, {"/x", "\xff", "text"},
	}
	for _, c := range bad {
		r := CannedReply{Shortcut: c.shortcut, Text: c.text}
		err := r.Validate()
		if e, ok := err.(*Error); !ok || e.Details["field"] != c.field {
			t.Errorf("Validate(%q, %.20q) = %v, want an error on %s", c.shortcut, c.text, err, c.field)
		}
	}
}
