package bot

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestKindOf(t *testing.T) {
	cases := []struct {
		err  error
		want Kind
	}{
		{&Error{Kind: Unauthorized, Message: "x"}, Unauthorized},
		{fmt.Errorf("turn: %w", &Error{Kind: Misconfigured}), Misconfigured},
		{errors.New("surprise"), Retryable},
		{context.DeadlineExceeded, Retryable},
	}
	for _, c := range cases {
		if got := KindOf(c.err); got != c.want {
			t.Errorf("KindOf(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	cause := errors.New("dial tcp: refused")
	e := &Error{Kind: Retryable, Message: "could not reach the bot", Cause: cause}
	if !errors.Is(e, cause) || e.Error() != "bot retryable: could not reach the bot: dial tcp: refused" {
		t.Fatalf("error = %q", e.Error())
	}
}
