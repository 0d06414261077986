package chat

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Status is a conversation's state. The numbers are Kommunicate's, so that
// integrations migrating from it keep working unchanged.
type Status int

const (
	StatusOpen        Status = 0
	StatusResolved    Status = 2
	StatusSpam        Status = 3
	StatusDuplicate   Status = 4
	StatusUnresponded Status = 6
	StatusWaiting     Status = 7 // in a team's queue, waiting for an agent
)

var statusNames = map[Status]string{
	StatusOpen:        "open",
	StatusResolved:    "resolved",
	StatusSpam:        "spam",
	StatusDuplicate:   "duplicate",
	StatusUnresponded: "unresponded",
	StatusWaiting:     "waiting",
}

// Statuses lists every status in numeric order.
var Statuses = []Status{StatusOpen, StatusResolved, StatusSpam, StatusDuplicate, StatusUnresponded, StatusWaiting}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool { _, ok := statusNames[s]; return ok }

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Closed reports whether the conversation is finished: nobody is expected to
// answer it until it is reopened.
func (s Status) Closed() bool {
	return s == StatusResolved || s == StatusSpam || s == StatusDuplicate
}

// ParseStatus accepts a status by name ("resolved") or by Kommunicate's number ("2").
func ParseStatus(v string) (Status, error) {
	v = strings.TrimSpace(strings.ToLower(v))
	for s, n := range statusNames {
		if n == v {
			return s, nil
		}
	}
	if n, err := strconv.Atoi(v); err == nil && Status(n).Valid() {
		return Status(n), nil
	}
	return 0, FieldError("status", "unknown status %q: use one of open, resolved, spam, duplicate, unresponded, waiting or their numbers", v)
}

// UnmarshalJSON accepts both the number and the name, because Kommunicate
// clients send numbers and Switchboard's own clients may send names.
func (s *Status) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if !Status(n).Valid() {
			return FieldError("status", "unknown status %d", n)
		}
		*s = Status(n)
		return nil
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return FieldError("status", "status must be a number or a name")
	}
	v, err := ParseStatus(name)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// allowedTransitions lists, for each status, where a conversation may go next.
// Closed conversations must be reopened before they can queue or go
// unresponded again, so a late queue event never resurrects a resolved chat.
var allowedTransitions = map[Status][]Status{
	StatusOpen:        {StatusResolved, StatusSpam, StatusDuplicate, StatusUnresponded, StatusWaiting},
	StatusUnresponded: {StatusOpen, StatusResolved, StatusSpam, StatusDuplicate, StatusWaiting},
	StatusWaiting:     {StatusOpen, StatusResolved, StatusSpam, StatusDuplicate, StatusUnresponded},
	StatusResolved:    {StatusOpen, StatusSpam, StatusDuplicate},
	StatusSpam:        {StatusOpen, StatusResolved},
	StatusDuplicate:   {StatusOpen, StatusResolved, StatusSpam},
}

// CheckTransition reports whether a conversation in status from may move to
// status to. Staying in the same status is allowed and changes nothing.
func CheckTransition(from, to Status) error {
	if !to.Valid() {
		return FieldError("status", "unknown status %d", int(to))
	}
	if from == to {
		return nil
	}
	for _, s := range allowedTransitions[from] {
		if s == to {
			return nil
		}
	}
	return Errorf(CodeConflict, "a %s conversation cannot become %s", from, to).
		WithDetail("from", from.String()).WithDetail("to", to.String())
}
