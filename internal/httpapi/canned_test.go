package httpapi

import (
	"testing"
)

type cannedJSON struct {
	ID       string `json:"id"`
	Shortcut string `json:"shortcut"`
	Text     string `json:"text"`
}

func (e *env) cannedReplies(c cred) []cannedJSON {
	e.t.Helper()
	var list struct {
		CannedReplies []cannedJSON `json:"cannedReplies"`
	}
	e.must(200, req{route: "GET /api/v1/canned-replies", cred: c}).json(e.t, &list)
	return list.CannedReplies
}

// walkCannedReplies calls every canned-reply route successfully.
func (e *env) walkCannedReplies(w *world) {
	var r cannedJSON
	e.must(201, req{route: "POST /api/v1/canned-replies", cred: cookie(w.owner), body: map[string]string{"shortcut": "/bye", "text": "Bye!"}}).json(e.t, &r)
	e.must(200, req{route: "PUT /api/v1/canned-replies/{id}", params: id(r.ID), cred: key(w.key), body: map[string]string{"shortcut": "/bye", "text": "Goodbye!"}})
	e.cannedReplies(cookie(w.agent))
	e.must(204, req{route: "DELETE /api/v1/canned-replies/{id}", params: id(r.ID), cred: cookie(w.owner)})
}

// Admins write canned replies, every agent reads them; shortcuts are kept
// in lower case with their "/", listed in order, and an app sees only its
// own.
func TestCannedReplies(t *testing.T) {
	e := newEnv(t)
	w := e.seed()
	var r cannedJSON
	e.must(201, req{route: "POST /api/v1/canned-replies", cred: cookie(w.owner), body: map[string]string{"shortcut": " Refund_Policy ", "text": " Refunds take 5 days. "}}).json(t, &r)
	if r.Shortcut != "/refund_policy" || r.Text != "Refunds take 5 days." || r.ID == "" {
		t.Fatalf("created = %+v", r)
	}
	list := e.cannedReplies(cookie(w.agent))
	if len(list) != 2 || list[0].Shortcut != "/hello" || list[1].ID != r.ID {
		t.Fatalf("agent's list = %+v", list)
	}
	var up cannedJSON
	e.must(200, req{route: "PUT /api/v1/canned-replies/{id}", params: id(r.ID), cred: cookie(w.owner), body: map[string]string{"shortcut": "/refund", "text": "Refunds take 3 days."}}).json(t, &up)
	if up.ID != r.ID || up.Shortcut != "/refund" || up.Text != "Refunds take 3 days." {
		t.Fatalf("updated = %+v", up)
	}
	// The freed shortcut can be taken again; the new one cannot.
	e.must(201, req{route: "POST /api/v1/canned-replies", cred: key(w.key), body: map[string]string{"shortcut": "/refund_policy", "text": "See /refund."}})
	if res := e.call(req{route: "POST /api/v1/canned-replies", cred: key(w.key), body: map[string]string{"shortcut": "/refund", "text": "x"}}); res.status != 409 {
		t.Fatalf("a taken shortcut: %d %s", res.status, res.body)
	}
	// An agent can read but not write.
	if res := e.call(req{route: "PUT /api/v1/canned-replies/{id}", params: id(r.ID), cred: cookie(w.agent), body: map[string]string{"shortcut": "/mine", "text": "x"}}); res.status != 403 {
		t.Fatalf("an agent's update: %d %s", res.status, res.body)
	}
	e.must(204, req{route: "DELETE /api/v1/canned-replies/{id}", params: id(r.ID), cred: cookie(w.owner)})
	if res := e.call(req{route: "DELETE /api/v1/canned-replies/{id}", params: id(r.ID), cred: cookie(w.owner)}); res.status != 404 {
		t.Fatalf("a second delete: %d %s", res.status, res.body)
	}
	if list := e.cannedReplies(key(w.other.key)); len(list) != 1 || list[0].ID != w.other.canned {
		t.Fatalf("the other app's list = %+v", list)
	}
}
