package dialog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"
	rtypes "github.com/aws/aws-sdk-go-v2/service/lexruntimev2/types"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/dialog"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// capture keeps the raw body of the last response, so the golden files hold
// exactly what went over the wire, not what the SDK made of it.
type capture struct {
	mu   sync.Mutex
	next http.RoundTripper
	last []byte
}

func (c *capture) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	c.mu.Lock()
	c.last = b
	c.mu.Unlock()
	return resp, nil
}

func (c *capture) body() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// requestID is the one field that changes from run to run.
var requestID = regexp.MustCompile(`"originatingRequestId":"[^"]*"`)

func normalize(t *testing.T, raw []byte) []byte {
	t.Helper()
	raw = requestID.ReplaceAll(raw, []byte(`"originatingRequestId":"REQUEST-ID"`))
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, raw)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// runtimeClient serves brain through the real wire layer on loopback and
// returns the real SDK client pointed at it.
func runtimeClient(t *testing.T, brain lexlocal.Brain) (*lexruntimev2.Client, *capture) {
	t.Helper()
	const key, secret = "AKIDDIALOGTEST000001", "dialog/test+secret"
	srv, err := lexlocal.New(lexlocal.Options{AccessKeyID: key, SecretAccessKey: secret, Region: "us-east-1", Brain: brain})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c := &capture{next: ts.Client().Transport}
	client := lexruntimev2.New(lexruntimev2.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(ts.URL), HTTPClient: &http.Client{Transport: c}, RetryMaxAttempts: 1,
	})
	return client, c
}

// TestOrderFlowersGolden replays the OrderFlowers conversation of the Lex
// V2 developer guide (exercise 2) against the fixture export, once
// confirmed and once declined, and compares every response byte for byte
// (after indenting, with the request id masked) with testdata/golden.
func TestOrderFlowersGolden(t *testing.T) {
	brain := newBrain(t, loadFixture(t, "orderflowers"))
	client, wire := runtimeClient(t, brain)

	type turn struct {
		text   string
		action rtypes.DialogActionType
		slot   string
		state  rtypes.IntentState
	}
	order := []turn{
		{"I would like to order some flowers", rtypes.DialogActionTypeElicitSlot, "FlowerType", rtypes.IntentStateInProgress},
		{"roses", rtypes.DialogActionTypeElicitSlot, "PickupDate", rtypes.IntentStateInProgress},
		{"tomorrow", rtypes.DialogActionTypeElicitSlot, "PickupTime", rtypes.IntentStateInProgress},
		{"10 am", rtypes.DialogActionTypeConfirmIntent, "", rtypes.IntentStateInProgress},
	}
	for _, conv := range []struct {
		name string
		last turn
	}{
		{"yes", turn{"yes", rtypes.DialogActionTypeClose, "", rtypes.IntentStateFulfilled}},
		{"no", turn{"no", rtypes.DialogActionTypeClose, "", rtypes.IntentStateFailed}},
	} {
		t.Run(conv.name, func(t *testing.T) {
			session := "orderflowers-" + conv.name
			for i, tn := range append(append([]turn{}, order...), conv.last) {
				out, err := client.RecognizeText(context.Background(), &lexruntimev2.RecognizeTextInput{
					BotId: aws.String("ORDERFLWRS"), BotAliasId: aws.String(dialog.TestAliasID), LocaleId: aws.String("en_US"),
					SessionId: aws.String(session), Text: aws.String(tn.text),
				})
				if err != nil {
					t.Fatalf("turn %d %q: %v", i+1, tn.text, err)
				}
				st := out.SessionState
				if st == nil || st.DialogAction == nil || st.Intent == nil {
					t.Fatalf("turn %d: SDK parsed no session state: %+v", i+1, out)
				}
				if st.DialogAction.Type != tn.action || aws.ToString(st.DialogAction.SlotToElicit) != tn.slot || st.Intent.State != tn.state {
					t.Fatalf("turn %d %q: action %s/%s state %s, want %s/%s %s", i+1, tn.text,
						st.DialogAction.Type, aws.ToString(st.DialogAction.SlotToElicit), st.Intent.State, tn.action, tn.slot, tn.state)
				}
				// Every slot is present; the unfilled ones came as null.
				if len(st.Intent.Slots) != 3 {
					t.Fatalf("turn %d: slots %v", i+1, st.Intent.Slots)
				}
				if i == 0 {
					if s, ok := st.Intent.Slots["FlowerType"]; !ok || s.Value != nil {
						t.Fatalf("turn 1: FlowerType should parse as an empty slot, got %+v", s)
					}
				}

				got := normalize(t, wire.body())
				path := filepath.Join("testdata", "golden", fmt.Sprintf("orderflowers-%s-%d.json", conv.name, i+1))
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("turn %d %q differs from %s:\n%s", i+1, tn.text, path, got)
				}
			}
		})
	}
}

// The fixture's slot prompts and confirmation read as in the guide, with
// the values filled in.
func TestOrderFlowersMessages(t *testing.T) {
	s := &session{t: t, brain: newBrain(t, loadFixture(t, "orderflowers")), bot: "ORDERFLWRS", locale: "en_US"}
	play(t, s, []step{
		{"I would like to order some flowers", "ElicitSlot/FlowerType OrderFlowers InProgress None", "PlainText:What type of flowers would you like to order?"},
		{"roses", "ElicitSlot/PickupDate OrderFlowers InProgress None", "PlainText:What day do you want the roses to be picked up?"},
		{"tomorrow", "ElicitSlot/PickupTime OrderFlowers InProgress None", "PlainText:At what time do you want the roses to be picked up?"},
		{"10 am", "ConfirmIntent OrderFlowers InProgress None", "PlainText:Okay, your roses will be ready for pickup by 10:00 on 2026-01-03. Does this sound okay?"},
		{"no", "Close OrderFlowers Failed Denied", "PlainText:Okay, I will not place your order."},
	})
}

// A state set with PutSession is what the next RecognizeText continues.
func TestPutSessionThenRecognize(t *testing.T) {
	client, _ := runtimeClient(t, newBrain(t, loadFixture(t, "orderflowers")))
	ctx := context.Background()
	value := func(v string) rtypes.Slot {
		return rtypes.Slot{Value: &rtypes.Value{OriginalValue: aws.String(v), InterpretedValue: aws.String(v), ResolvedValues: []string{v}}}
	}
	bot, alias, loc, sess := aws.String("ORDERFLWRS"), aws.String(dialog.TestAliasID), aws.String("en_US"), aws.String("put-session")
	_, err := client.PutSession(ctx, &lexruntimev2.PutSessionInput{
		BotId: bot, BotAliasId: alias, LocaleId: loc, SessionId: sess,
		SessionState: &rtypes.SessionState{
			DialogAction: &rtypes.DialogAction{Type: rtypes.DialogActionTypeElicitSlot, SlotToElicit: aws.String("PickupTime")},
			Intent: &rtypes.Intent{Name: aws.String("OrderFlowers"), State: rtypes.IntentStateInProgress, Slots: map[string]rtypes.Slot{
				"FlowerType": value("tulips"), "PickupDate": value("2026-02-14"),
			}},
			SessionAttributes: map[string]string{"customer": "Ana"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.RecognizeText(ctx, &lexruntimev2.RecognizeTextInput{BotId: bot, BotAliasId: alias, LocaleId: loc, SessionId: sess, Text: aws.String("noon")})
	if err != nil {
		t.Fatal(err)
	}
	st := out.SessionState
	if st.DialogAction.Type != rtypes.DialogActionTypeConfirmIntent || st.SessionAttributes["customer"] != "Ana" {
		t.Fatalf("state %+v", st)
	}
	want := "Okay, your tulips will be ready for pickup by 12:00 on 2026-02-14. Does this sound okay?"
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Content) != want {
		t.Fatalf("messages %+v", out.Messages)
	}
}

// The count of unanswered prompts lives in the session the server keeps:
// through the wire, PickupDate (maxRetries 2) is asked three times, then
// the intent fails.
func TestRetriesSurviveTheServer(t *testing.T) {
	client, _ := runtimeClient(t, newBrain(t, loadFixture(t, "orderflowers")))
	want := []struct {
		text   string
		action rtypes.DialogActionType
		state  rtypes.IntentState
	}{
		{"I would like to pick up flowers", rtypes.DialogActionTypeElicitSlot, rtypes.IntentStateInProgress},
		{"tulips", rtypes.DialogActionTypeElicitSlot, rtypes.IntentStateInProgress},
		{"whenever", rtypes.DialogActionTypeElicitSlot, rtypes.IntentStateInProgress},
		{"I don't know", rtypes.DialogActionTypeElicitSlot, rtypes.IntentStateInProgress},
		{"some day", rtypes.DialogActionTypeClose, rtypes.IntentStateFailed},
	}
	for i, w := range want {
		out, err := client.RecognizeText(context.Background(), &lexruntimev2.RecognizeTextInput{
			BotId: aws.String("ORDERFLWRS"), BotAliasId: aws.String(dialog.TestAliasID), LocaleId: aws.String("en_US"),
			SessionId: aws.String("retries"), Text: aws.String(w.text),
		})
		if err != nil {
			t.Fatal(err)
		}
		if st := out.SessionState; st.DialogAction.Type != w.action || st.Intent.State != w.state {
			t.Fatalf("turn %d %q: %s %s, want %s %s", i+1, w.text, st.DialogAction.Type, st.Intent.State, w.action, w.state)
		}
	}
}
