package realtime

import "testing"

// FuzzDecodeFrame: no input may panic the decoder, and whatever it accepts
// is a known type with a valid conversation id where one is needed.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"subscribe","conversationId":"c1","afterSeq":3,"id":"r"}`,
		`{"type":"send","conversationId":"c1","clientKey":"k","text":"hi","metadata":{"a":"b","n":{"x":1}},"attachments":[{"uploadId":"u"}],"location":{"lat":1,"lon":2}}`,
		`{"type":"typing","conversationId":"c1","typing":true}`,
		`{"type":"subscribe_inbox","afterSeq":0}`,
		`{"type":"ping"}`, `{"type":"unsubscribe","conversationId":"c1"}`,
		`{}`, `[]`, `null`, `{"type":5}`, `{"type":"subscribe","afterSeq":-1}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeFrame(data)
		if err != nil {
			_ = errorBytes(fr.ID, fr.ClientKey, "", err)
			return
		}
		switch fr.Type {
		case framePing, frameSubscribeInbox, frameUnsubscribeInbox:
		case frameSubscribe, frameUnsubscribe, frameSend, frameTyping:
			if fr.ConversationID == "" {
				t.Fatalf("accepted %q without a conversation", data)
			}
		default:
			t.Fatalf("accepted unknown type %q", fr.Type)
		}
		if fr.AfterSeq != nil && *fr.AfterSeq < 0 {
			t.Fatalf("accepted negative afterSeq")
		}
	})
}
