package lexbot

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lexmodelsv2"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// A host name can resolve to the metadata service even though the URL
// names no link-local address; the dialer refuses it before connecting.
func TestSetupDialerRefusesLinkLocal(t *testing.T) {
	st := NewSetup(SetupOptions{})
	for _, endpoint := range []string{"http://169.254.169.254", "http://[fe80::1]:8080"} {
		c, _ := st.client(account{region: "eu-west-1", accessKeyID: "AKIAEXAMPLE000000000", secret: "s", endpoint: endpoint})
		_, err := c.ListBots(context.Background(), &lexmodelsv2.ListBotsInput{})
		if !errors.Is(err, errLinkLocal) {
			t.Fatalf("%s: %v", endpoint, err)
		}
		e := setupError(context.Background(), "ListBots", err, account{region: "eu-west-1", endpoint: endpoint, form: "lex."}, endpoint)
		if !errors.Is(e, errLinkLocal) || !chat.IsCode(e, chat.CodeLexEndpointUnreachable) {
			t.Fatalf("setupError lost the cause: %v", e)
		}
	}
}
