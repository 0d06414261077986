package lexbot

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2/types"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
)

// benchBrain is a one-intent bot for the local runtime: it greets, with a
// quick-reply custom payload, and counts turns in a session attribute, so
// that each turn carries state both ways as a real bot's does.
type benchBrain struct{}

const benchRegion = "us-east-1"

func (benchBrain) Bot(id string) (lexlocal.BotInfo, bool) {
	if id != testBotID {
		return lexlocal.BotInfo{}, false
	}
	return lexlocal.BotInfo{ID: testBotID, Name: "BenchBot", Aliases: []lexlocal.AliasInfo{
		{ID: testAlias, Name: "TestBotAlias", BotVersion: "DRAFT", Locales: map[string]lexlocal.AliasLocale{"en_US": {Enabled: true}}},
	}}, true
}

func (b benchBrain) Bots() []lexlocal.BotInfo {
	info, _ := b.Bot(testBotID)
	return []lexlocal.BotInfo{info}
}

func (benchBrain) Recognize(_ context.Context, in lexlocal.RecognizeInput) (lexlocal.RecognizeOutput, error) {
	attrs := map[string]string{}
	for k, v := range in.SessionState.SessionAttributes {
		attrs[k] = v
	}
	attrs["turns"] += "I"
	if len(attrs["turns"]) > 20 {
		attrs["turns"] = "I"
	}
	intent := &lexlocal.Intent{Name: "Greeting", State: "Fulfilled", ConfirmationState: "None", Slots: map[string]*lexlocal.Slot{"Name": nil}}
	return lexlocal.RecognizeOutput{
		SessionState: lexlocal.SessionState{DialogAction: &lexlocal.DialogAction{Type: "Close"}, Intent: intent, SessionAttributes: attrs},
		Messages: []lexlocal.Message{
			{Content: "Hello! How can I help?", ContentType: "PlainText"},
			{Content: `{"platform":"kommunicate","message":"Pick one","metadata":{"templateId":"6","payload":[{"title":"Orders","message":"orders"},{"title":"Talk to a human","message":"human"}]}}`, ContentType: "CustomPayload"},
		},
		Interpretations: []lexlocal.Interpretation{{Intent: intent, NLUConfidence: &lexlocal.ConfidenceScore{Score: 0.95}, InterpretationSource: "Lex"}},
	}, nil
}

// BenchmarkConnectorOverhead measures, in one run and against the same
// local runtime, a direct lexruntimev2 RecognizeText call and the
// connector's Turn for the same utterance, interleaved so that both see
// the same machine load. The p50 difference is what the connector adds to
// the SDK call: settings, locale, attributes, state and reply conversion.
func BenchmarkConnectorOverhead(b *testing.B) {
	local, err := lexlocal.New(lexlocal.Options{AccessKeyID: testKeyID, SecretAccessKey: testSecret, Brain: benchBrain{}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(local)
	defer srv.Close()

	s := settingsFor(srv.URL, func(s *Settings) { s.Region = benchRegion; s.Locales = []string{"en_US"} })
	conn := New(Options{})
	tn := turnFor(b, s, "hello there")
	tn.Contact.ChatContext = json.RawMessage(`{"plan":"gold","seats":3,"company":{"name":"Acme","size":"50-100"}}`)

	direct := lexruntimev2.New(lexruntimev2.Options{
		Region:       benchRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   conn.http,
		Retryer:      aws.NopRetryer{},
	})
	directIn := &lexruntimev2.RecognizeTextInput{
		BotId: aws.String(testBotID), BotAliasId: aws.String(testAlias), LocaleId: aws.String("en_US"),
		SessionId: aws.String("direct-session"), Text: aws.String("hello there"),
		SessionState: &types.SessionState{SessionAttributes: map[string]string{"plan": "gold"}},
	}

	ctx := context.Background()
	sdk := make([]time.Duration, 0, b.N)
	turn := make([]time.Duration, 0, b.N)
	var state json.RawMessage
	deadline := time.Now().Add(20 * time.Second)
	b.ResetTimer()
	for i := 0; i < b.N && time.Now().Before(deadline); i++ {
		start := time.Now()
		out, err := direct.RecognizeText(ctx, directIn)
		sdk = append(sdk, time.Since(start))
		if err != nil || len(out.Messages) != 2 {
			b.Fatalf("direct call: %v", err)
		}
		directIn.SessionState.SessionAttributes = out.SessionState.SessionAttributes

		start = time.Now()
		res, err := conn.Turn(ctx, tn, state)
		turn = append(turn, time.Since(start))
		if err != nil || len(res.Replies) != 2 {
			b.Fatalf("turn: %v %+v", err, res)
		}
		state = res.State
	}
	b.StopTimer()
	ps, pt := p50(sdk), p50(turn)
	b.ReportMetric(float64(ps.Microseconds()), "sdk-p50-µs")
	b.ReportMetric(float64(pt.Microseconds()), "turn-p50-µs")
	b.ReportMetric(float64((pt - ps).Microseconds()), "overhead-p50-µs")
}

func p50(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
