package dialog

import (
	"strings"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/nlu"
)

// Words and phrases that answer a confirmation prompt, in English and
// Spanish, in nlu.Normalize's folded form ("sí" is "si"). Phrases are
// matched on word boundaries anywhere in the reply.
var (
	yesPhrases = []string{
		"yes", "yeah", "yea", "yep", "yup", "y", "sure", "ok", "okay", "k", "correct", "right",
		"affirmative", "of course", "absolutely", "definitely", "certainly", "sounds good",
		"go ahead", "do it", "confirm", "confirmed", "please do", "perfect", "great", "fine",
		"si", "claro", "vale", "dale", "correcto", "por supuesto", "de acuerdo", "afirmativo",
		"perfecto", "bien", "esta bien", "exacto", "confirmo", "adelante", "desde luego",
	}
	noPhrases = []string{
		"no", "nope", "nah", "n", "not", "negative", "cancel", "stop", "dont", "do not",
		"wrong", "incorrect", "never mind", "nevermind",
		"nop", "negativo", "cancela", "cancelar", "para nada", "tampoco", "incorrecto", "nunca",
	}
)

// readConfirmation classifies a reply to a confirmation prompt as
// Confirmed, Denied, or "" when it says neither or both.
func readConfirmation(text string) string {
	norm := " " + nlu.Normalize(text) + " "
	yes, no := contains(norm, yesPhrases), contains(norm, noPhrases)
	switch {
	case yes && !no:
		return confirmConfirmed
	case no && !yes:
		return confirmDenied
	}
	return ""
}

func contains(padded string, phrases []string) bool {
	for _, p := range phrases {
		if strings.Contains(padded, " "+p+" ") {
			return true
		}
	}
	return false
}
