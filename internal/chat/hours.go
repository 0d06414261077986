package chat

import (
	"fmt"
	"strings"
	"time"
)

// Clock is a wall-clock time of day in minutes after midnight, 0 to 1440.
// 1440 ("24:00") exists only as the end of a range, so that a day can be
// open to its very end without the range turning overnight.
type Clock int

// EndOfDay is "24:00".
const EndOfDay Clock = 24 * 60

// ParseClock reads "HH:MM" (or "H:MM"), 00:00 to 24:00, surrounding spaces allowed.
func ParseClock(s string) (Clock, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return 0, FieldError("time", "time %q must be HH:MM, for example 09:00 or 17:30", s)
	}
	hh := atoi2(h)
	mm := atoi2(m)
	if hh > 24 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, FieldError("time", "time %q is not between 00:00 and 24:00", s)
	}
	return Clock(hh*60 + mm), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi2 converts one or two ASCII digits already checked by allDigits.
func atoi2(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// String writes c as "HH:MM".
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// MarshalText writes "HH:MM", the form admins type and the API shows.
func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads "HH:MM".
func (c *Clock) UnmarshalText(b []byte) error {
	v, err := ParseClock(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// TimeRange is an opening period of one weekday. When End is before Start
// the range is overnight: it opens on its own weekday at Start and closes
// at End on the next day. "Fri 22:00–06:00" is Friday night into Saturday
// morning; it belongs to Friday because that is how people say it.
type TimeRange struct {
	Start Clock `json:"start"`
	End   Clock `json:"end"`
}

// ParseTimeRange reads "HH:MM-HH:MM" (an en dash works too).
func ParseTimeRange(s string) (TimeRange, error) {
	a, b, ok := strings.Cut(strings.ReplaceAll(s, "–", "-"), "-")
	if !ok {
		return TimeRange{}, FieldError("hours", "opening hours %q must be HH:MM-HH:MM, for example 09:00-17:30", strings.TrimSpace(s))
	}
	start, err := ParseClock(a)
	if err != nil {
		return TimeRange{}, err
	}
	end, err := ParseClock(b)
	if err != nil {
		return TimeRange{}, err
	}
	r := TimeRange{Start: start, End: end}
	return r, r.Validate()
}

// Overnight reports whether the range runs past midnight into the next day.
func (r TimeRange) Overnight() bool { return r.End < r.Start }

// Validate rejects ranges whose meaning would be a guess.
func (r TimeRange) Validate() error {
	switch {
	case r.Start < 0 || r.Start >= EndOfDay:
		return FieldError("hours", "a range must start between 00:00 and 23:59")
	case r.End < 0 || r.End > EndOfDay:
		return FieldError("hours", "a range must end between 00:00 and 24:00")
	case r.Start == r.End:
		// Empty or a full day? Admins mean both; make them say 00:00-24:00.
		return FieldError("hours", "a range from %s to %s is ambiguous: use 00:00-24:00 for the whole day", r.Start, r.End)
	}
	return nil
}

func (r TimeRange) String() string { return r.Start.String() + "-" + r.End.String() }

// BusinessHours are when a team (or the app) is open, in wall-clock time of
// Location. With no ranges at all it is always open, so that hours are
// opt-in and an app without them never shows an away message for them.
type BusinessHours struct {
	// Location is the zone the ranges are written in; nil is UTC. The
	// caller loads it (time.LoadLocation reads the zone database), which
	// keeps this package free of I/O.
	Location *time.Location               `json:"-"`
	Weekly   map[time.Weekday][]TimeRange `json:"weekly,omitempty"`
}

// Configured reports whether any opening range is set.
func (h BusinessHours) Configured() bool {
	for _, rs := range h.Weekly {
		if len(rs) > 0 {
			return true
		}
	}
	return false
}

// Validate checks every range and weekday.
func (h BusinessHours) Validate() error {
	for d, rs := range h.Weekly {
		if d < time.Sunday || d > time.Saturday {
			return FieldError("hours", "unknown weekday %d", int(d))
		}
		for _, r := range rs {
			if err := r.Validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// OpenAt reports whether t falls in an opening range. It works on the wall
// clock in Location, so a DST jump moves the instants, not the schedule:
// "09:00-17:00" is 09:00-17:00 local time on both sides of the change, a
// range inside the skipped spring hour never opens, and the repeated autumn
// hour is open both times round.
func (h BusinessHours) OpenAt(t time.Time) bool {
	if !h.Configured() {
		return true
	}
	loc := h.Location
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	now := Clock(local.Hour()*60 + local.Minute())
	today := local.Weekday()
	for _, r := range h.Weekly[today] {
		if r.Overnight() {
			if now >= r.Start {
				return true
			}
		} else if now >= r.Start && now < r.End {
			return true
		}
	}
	// Yesterday's overnight ranges reach into this morning.
	for _, r := range h.Weekly[(today+6)%7] {
		if r.Overnight() && now < r.End {
			return true
		}
	}
	return false
}
