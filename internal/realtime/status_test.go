package realtime

import "testing"

// Status changes in a burst start one delivery while one is waiting to
// read the store, and none at all for a conversation only staff watch.
func TestStatusDeliveriesCoalesce(t *testing.T) {
	staff := &subscription{c: &conn{p: principal{agentID: "a1"}}}
	contact := &subscription{c: &conn{p: principal{contactID: "c1"}}}
	st := &stream{subs: map[*subscription]struct{}{staff: {}}}
	if st.wantStatus() {
		t.Fatal("a delivery was started for a conversation only staff watch")
	}
	st.subs[contact] = struct{}{}
	if !st.wantStatus() {
		t.Fatal("no delivery for a contact listening")
	}
	for range 100 {
		if st.wantStatus() {
			t.Fatal("a second delivery was started while the first had not read the store yet")
		}
	}
	// The first delivery reads the store: a change from then on needs
	// its own.
	st.mu.Lock()
	st.statusWaiting = false
	st.mu.Unlock()
	if !st.wantStatus() {
		t.Fatal("no delivery for a change after the first one read the store")
	}
}
