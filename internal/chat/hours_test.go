package chat

import (
	"encoding/json"
	"testing"
	"time"
	_ "time/tzdata" // the DST tables must not depend on the machine's zoneinfo
)

func TestParseClock(t *testing.T) {
	cases := []struct {
		in   string
		want Clock
		ok   bool
	}{
		{"00:00", 0, true}, {"09:30", 570, true}, {"9:30", 570, true}, {" 17:05 ", 17*60 + 5, true},
		{"23:59", 1439, true}, {"24:00", EndOfDay, true},
		{"24:01", 0, false}, {"25:00", 0, false}, {"12:60", 0, false}, {"12:5", 0, false},
		{"123:00", 0, false}, {"", 0, false}, {":", 0, false}, {"12", 0, false}, {"-1:00", 0, false},
		{"+1:00", 0, false}, {"1a:00", 0, false}, {"12:00:00", 0, false}, {"１２:００", 0, false},
	}
	for _, c := range cases {
		got, err := ParseClock(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseClock(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
		if err != nil && !IsCode(err, CodeInvalid) {
			t.Errorf("ParseClock(%q): error %v is not a validation error", c.in, err)
		}
	}
}

func TestParseTimeRange(t *testing.T) {
	cases := []struct {
		in        string
		want      TimeRange
		overnight bool
		ok        bool
	}{
		{"09:00-17:30", TimeRange{540, 1050}, false, true},
		{"22:00-06:00", TimeRange{1320, 360}, true, true},
		{"22:00–06:00", TimeRange{1320, 360}, true, true}, // en dash
		{" 00:00 - 24:00 ", TimeRange{0, EndOfDay}, false, true},
		{"18:00-24:00", TimeRange{1080, EndOfDay}, false, true},
		{"23:00-00:00", TimeRange{1380, 0}, true, true},
		{"24:00-06:00", TimeRange{}, false, false}, // 24:00 only ends a range
		{"09:00-09:00", TimeRange{}, false, false}, // empty or whole day? ambiguous
		{"09:00", TimeRange{}, false, false},
		{"09:00-", TimeRange{}, false, false},
		{"9-17", TimeRange{}, false, false},
	}
	for _, c := range cases {
		got, err := ParseTimeRange(c.in)
		if (err == nil) != c.ok || (c.ok && (got != c.want || got.Overnight() != c.overnight)) {
			t.Errorf("ParseTimeRange(%q) = %v (overnight %v), %v; want %v overnight=%v ok=%v",
				c.in, got, got.Overnight(), err, c.want, c.overnight, c.ok)
		}
	}
}

func TestClockJSON(t *testing.T) {
	var r TimeRange
	if err := json.Unmarshal([]byte(`{"start":"22:00","end":"06:30"}`), &r); err != nil || r != (TimeRange{1320, 390}) {
		t.Fatalf("unmarshal = %v, %v", r, err)
	}
	b, _ := json.Marshal(r)
	if string(b) != `{"start":"22:00","end":"06:30"}` {
		t.Errorf("marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"start":"7pm","end":"06:30"}`), &r); err == nil {
		t.Error("want an error for 7pm")
	}
}

func TestBusinessHoursValidate(t *testing.T) {
	cases := []struct {
		name string
		h    BusinessHours
		ok   bool
	}{
		{"empty", BusinessHours{}, true},
		{"normal", BusinessHours{Weekly: map[time.Weekday][]TimeRange{time.Monday: {{540, 1020}}}}, true},
		{"bad weekday", BusinessHours{Weekly: map[time.Weekday][]TimeRange{7: {{540, 1020}}}}, false},
		{"empty range", BusinessHours{Weekly: map[time.Weekday][]TimeRange{time.Monday: {{540, 540}}}}, false},
		{"end past 24:00", BusinessHours{Weekly: map[time.Weekday][]TimeRange{time.Monday: {{540, 1500}}}}, false},
		{"start at 24:00", BusinessHours{Weekly: map[time.Weekday][]TimeRange{time.Monday: {{EndOfDay, 60}}}}, false},
	}
	for _, c := range cases {
		if err := c.h.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func rng(s string) TimeRange {
	r, err := ParseTimeRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// at builds a UTC instant; 2025-06-02 is a Monday.
func at(day, hh, mm int) time.Time { return time.Date(2025, 6, day, hh, mm, 0, 0, time.UTC) }

func TestOpenAt(t *testing.T) {
	office := BusinessHours{Weekly: map[time.Weekday][]TimeRange{
		time.Monday:    {rng("09:00-12:00"), rng("13:00-17:00")},
		time.Friday:    {rng("22:00-06:00")}, // Friday night into Saturday
		time.Saturday:  {rng("18:00-24:00")},
		time.Sunday:    {rng("23:00-01:00")}, // Sunday night into Monday
		time.Wednesday: {rng("00:00-24:00")},
	}}
	cases := []struct {
		name string
		h    BusinessHours
		t    time.Time
		want bool
	}{
		{"no hours: always open", BusinessHours{}, at(3, 3, 0), true},
		{"days without ranges only: always open", BusinessHours{Weekly: map[time.Weekday][]TimeRange{time.Monday: nil}}, at(3, 3, 0), true},
		{"Mon before opening", office, at(2, 8, 59), false},
		{"Mon at opening", office, at(2, 9, 0), true},
		{"Mon lunch starts at the end minute", office, at(2, 12, 0), false},
		{"Mon afternoon", office, at(2, 16, 59), true},
		{"Mon at closing", office, at(2, 17, 0), false},
		{"Tue: no ranges that day", office, at(3, 10, 0), false},
		{"Wed 00:00-24:00 at midnight", office, at(4, 0, 0), true},
		{"Wed 00:00-24:00 at 23:59", office, at(4, 23, 59), true},
		{"Thu 00:00 after a 24:00 end", office, at(5, 0, 0), false},
		{"Fri 21:59 before the overnight range", office, at(6, 21, 59), false},
		{"Fri 22:00 overnight opens", office, at(6, 22, 0), true},
		{"Fri 23:59", office, at(6, 23, 59), true},
		{"Sat 00:00 still Friday's range", office, at(7, 0, 0), true},
		{"Sat 05:59 still Friday's range", office, at(7, 5, 59), true},
		{"Sat 06:00 Friday's range has ended", office, at(7, 6, 0), false},
		{"Sat 18:00-24:00 at 23:59", office, at(7, 23, 59), true},
		{"Sun 00:00: Saturday's 24:00 end is not overnight", office, at(8, 0, 0), false},
		{"Sun 23:30 overnight", office, at(8, 23, 30), true},
		{"Mon 00:30 from Sunday's range (week wraps)", office, at(9, 0, 30), true},
		{"Mon 01:00 Sunday's range ended", office, at(9, 1, 0), false},
		{"Thu 23:00: an overnight range belongs to the day it starts", office, at(5, 23, 0), false},
		{"nil location is UTC", BusinessHours{Weekly: map[time.Weekday][]TimeRange{time.Monday: {rng("09:00-10:00")}}},
			time.Date(2025, 6, 2, 11, 30, 0, 0, time.FixedZone("X", 2*3600)), true},
		{"location shifts the weekday", BusinessHours{Location: time.FixedZone("UTC+10", 10*3600), Weekly: map[time.Weekday][]TimeRange{time.Tuesday: {rng("08:00-09:00")}}},
			at(2, 22, 30), true}, // Mon 22:30 UTC = Tue 08:30 at UTC+10
	}
	for _, c := range cases {
		if got := c.h.OpenAt(c.t); got != c.want {
			t.Errorf("%s: OpenAt(%s) = %v, want %v", c.name, c.t.Format(time.RFC3339), got, c.want)
		}
	}
}

// TestOpenAtDST: Europe/Berlin springs forward on 2025-03-30 (02:00 CET →
// 03:00 CEST) and falls back on 2025-10-26 (03:00 CEST → 02:00 CET). Hours
// are wall-clock, so the same local range opens at a different UTC instant
// on each side, a range inside the skipped hour never opens, and the
// repeated hour is open twice.
func TestOpenAtDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("load Europe/Berlin: %v", err)
	}
	day := BusinessHours{Location: berlin, Weekly: map[time.Weekday][]TimeRange{time.Sunday: {rng("09:00-17:00")}}}
	gap := BusinessHours{Location: berlin, Weekly: map[time.Weekday][]TimeRange{time.Sunday: {rng("02:00-03:00")}}}
	night := BusinessHours{Location: berlin, Weekly: map[time.Weekday][]TimeRange{time.Saturday: {rng("22:00-06:00")}}}
	mon := BusinessHours{Location: berlin, Weekly: map[time.Weekday][]TimeRange{time.Monday: {rng("00:00-01:00")}}}
	utc := func(mo time.Month, d, h, m int) time.Time { return time.Date(2025, mo, d, h, m, 0, 0, time.UTC) }
	cases := []struct {
		name string
		h    BusinessHours
		t    time.Time
		want bool
	}{
		{"winter Sun 08:30 CET is before 09:00", day, utc(3, 23, 7, 30), false},
		{"DST Sun 07:30Z is 09:30 CEST: open", day, utc(3, 30, 7, 30), true},
		{"DST Sun 06:59Z is 08:59 CEST: closed", day, utc(3, 30, 6, 59), false},
		{"DST Sun 15:00Z is 17:00 CEST: closed", day, utc(3, 30, 15, 0), false},
		{"spring: 00:59Z is 01:59 CET, before the gap", gap, utc(3, 30, 0, 59), false},
		{"spring: 01:00Z is 03:00 CEST, after the gap", gap, utc(3, 30, 1, 0), false},
		{"autumn: 00:30Z is the first 02:30 (CEST)", gap, utc(10, 26, 0, 30), true},
		{"autumn: 01:30Z is the second 02:30 (CET)", gap, utc(10, 26, 1, 30), true},
		{"autumn: 02:00Z is 03:00 CET", gap, utc(10, 26, 2, 0), false},
		{"autumn: 23:59Z Sat is 01:59 CEST Sun", gap, utc(10, 25, 23, 59), false},
		{"autumn overnight Sat→Sun: 04:59Z is 05:59 CET", night, utc(10, 26, 4, 59), true},
		{"autumn overnight Sat→Sun: 05:00Z is 06:00 CET", night, utc(10, 26, 5, 0), false},
		{"spring overnight Sat→Sun: 03:59Z is 05:59 CEST", night, utc(3, 30, 3, 59), true},
		{"spring overnight Sat→Sun: 04:00Z is 06:00 CEST", night, utc(3, 30, 4, 0), false},
		{"Sun 22:30Z in summer is Mon 00:30 CEST", mon, utc(10, 19, 22, 30), true},
		{"Sun 22:30Z after fall-back is Sun 23:30 CET", mon, utc(10, 26, 22, 30), false},
	}
	for _, c := range cases {
		if got := c.h.OpenAt(c.t); got != c.want {
			t.Errorf("%s: OpenAt(%s = %s) = %v, want %v", c.name, c.t.Format(time.RFC3339), c.t.In(berlin).Format("Mon 15:04 MST"), got, c.want)
		}
	}
	// No minute of the spring-forward Sunday is open in the skipped hour.
	for m := 0; m < 24*60; m++ {
		tm := utc(3, 29, 22, 0).Add(time.Duration(m) * time.Minute)
		if gap.OpenAt(tm) && tm.In(berlin).Weekday() == time.Sunday {
			t.Fatalf("open at %s, inside the skipped hour", tm.In(berlin))
		}
	}
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"00:00", "9:30", "24:00", "24:01", " 12:00 ", "99:99", "", ":", "1:2", "22:00-06:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseClock(s)
		if err != nil {
			if !IsCode(err, CodeInvalid) {
				t.Fatalf("ParseClock(%q): %v is not a validation error", s, err)
			}
		} else {
			if c < 0 || c > EndOfDay {
				t.Fatalf("ParseClock(%q) = %d, out of range", s, c)
			}
			back, err := ParseClock(c.String())
			if err != nil || back != c {
				t.Fatalf("round trip of %q: %q → %v, %v", s, c.String(), back, err)
			}
		}
		if r, err := ParseTimeRange(s); err == nil {
			if r.Validate() != nil || r.Start == r.End || r.Start >= EndOfDay {
				t.Fatalf("ParseTimeRange(%q) accepted an invalid range %v", s, r)
			}
		}
	})
}
