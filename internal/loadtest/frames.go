package loadtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The frames of docs/realtime.md that the load uses. Only the stable subset
// is spoken, so that the same client measures Switchboard and the bare
// baseline.

type subscribeFrame struct {
	Type           string `json:"type"` // "subscribe"
	ConversationID string `json:"conversationId"`
	AfterSeq       int64  `json:"afterSeq"`
}

type sendFrame struct {
	Type           string `json:"type"` // "send"
	ConversationID string `json:"conversationId"`
	ClientKey      string `json:"clientKey"`
	Text           string `json:"text"`
}

// inFrame is any server frame. Message stays raw because its meaning
// depends on Type: the REST message object in "message" frames, and
// possibly a human-readable string in "error" frames.
type inFrame struct {
	Type           string          `json:"type"`
	ConversationID string          `json:"conversationId"`
	Seq            int64           `json:"seq"`
	ClientKey      string          `json:"clientKey"`
	MessageID      string          `json:"messageId"`
	Message        json.RawMessage `json:"message"`
}

// messageText extracts the text of a "message" frame's message object.
func (f *inFrame) messageText() string {
	var m struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(f.Message, &m)
	return m.Text
}

// marker is embedded in every load message's text. It carries the send
// time as an offset from the run's monotonic epoch: the sender and every
// subscriber live in this process, so receive − send needs no clock sync
// and is immune to wall-clock steps. The run id keeps messages of other
// runs (or of other senders on the same conversation) out of the counts.
type marker struct {
	run   string
	epoch time.Time
}

func (m marker) text(i int64, now time.Time) string {
	return "bench " + m.run + " " + strconv.FormatInt(i, 10) + " " + strconv.FormatInt(int64(now.Sub(m.epoch)), 10)
}

// parse returns the send time of a load message of this run.
func (m marker) parse(text string) (sent time.Time, ok bool) {
	f := strings.Fields(text)
	if len(f) != 4 || f[0] != "bench" || f[1] != m.run {
		return time.Time{}, false
	}
	off, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return m.epoch.Add(time.Duration(off)), true
}

// errorText renders an error frame for a person.
func errorText(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return fmt.Sprintf("server error frame: %s", s)
}
