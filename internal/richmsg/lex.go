package richmsg

import (
	"encoding/json"
	"fmt"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// LexButton is a button of a Lex ImageResponseCard.
type LexButton struct {
	Text  string // the label
	Value string // what a click sends back as the contact's message
}

// FromLexCard converts Lex's ImageResponseCard into a template-10 card
// (SPEC §4.3): title, subtitle, image and up to 5 buttons, each a quick
// reply that sends its value. An unsafe image is left out and extra buttons
// are dropped, each with a warning, so that a card still reaches the
// contact; the result always passes Validate when the card has a title or
// an image, and otherwise degrades to text in Normalize.
func FromLexCard(title, subtitle, imageURL string, buttons []LexButton) (chat.Metadata, []string) {
	var warns []string
	card := Card{Title: truncateRunes(title, MaxLabelLen), Subtitle: truncateRunes(subtitle, MaxTextLen)}
	if imageURL != "" {
		if u, upgraded, err := SafeURL(imageURL); err != nil {
			warns = append(warns, fmt.Sprintf("imageResponseCard.imageUrl was left out: %s", errMessage(err)))
		} else {
			if upgraded {
				warns = append(warns, "imageResponseCard.imageUrl has no scheme; https:// was assumed")
			}
			card.Header = &CardHeader{ImgSrc: u}
		}
	}
	if len(buttons) > MaxLexButtons {
		warns = append(warns, fmt.Sprintf("imageResponseCard has %d buttons; only the first %d are shown", len(buttons), MaxLexButtons))
		buttons = buttons[:MaxLexButtons]
	}
	for _, b := range buttons {
		label := firstNonEmpty(b.Text, b.Value)
		if label == "" {
			warns = append(warns, "imageResponseCard: a button without text or value was left out")
			continue
		}
		card.Buttons = append(card.Buttons, CardButton{
			Name: truncateRunes(label, MaxLabelLen),
			Action: Action{
				Type:    ActionQuickReply,
				Title:   truncateRunes(label, MaxLabelLen),
				Message: truncateRunes(firstNonEmpty(b.Value, b.Text), MaxTextLen),
				style:   styleNested,
			},
		})
	}
	p, _ := json.Marshal([]Card{card})
	return chat.Metadata{
		chat.MetaTemplateID: TemplateCards,
		chat.MetaPayload:    string(p),
		MetaContentType:     ContentTypeRich,
	}, warns
}
