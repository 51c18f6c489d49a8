package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// exactJSONBody reports JSON text in a request body that Go's decoder would
// silently change, so the request can be refused instead of acknowledged and
// stored altered (sut/kv states the exact-bytes rule): bytes that are not
// UTF-8, a \u escape of half a surrogate pair (both decode as U+FFFD), and an
// object member given twice (the last one would win). The error names the
// field by its path in the body (field value[1]["a"]). body must already be
// valid JSON.
func exactJSONBody(body []byte) error {
	w := jsonWalker{body: body, dec: json.NewDecoder(bytes.NewReader(body))}
	w.dec.UseNumber()
	return w.value("body")
}

type jsonWalker struct {
	body []byte
	dec  *json.Decoder
}

// token reads the next token and the raw bytes of a string token.
func (w *jsonWalker) token() (json.Token, []byte, error) {
	from := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if _, ok := tok.(string); !ok {
		return tok, nil, nil
	}
	// Between the previous token and this one there are only separators
	// and white space, so the string starts at the first quote.
	seg := w.body[from:w.dec.InputOffset()]
	return tok, seg[bytes.IndexByte(seg, '"'):], nil
}

// value walks one JSON value named path.
func (w *jsonWalker) value(path string) error {
	tok, raw, err := w.token()
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	switch t := tok.(type) {
	case string:
		return exactString(path, raw)
	case json.Delim:
		if t == '[' {
			return w.array(path)
		}
		return w.object(path)
	}
	return nil
}

func (w *jsonWalker) array(path string) error {
	for i := 0; w.dec.More(); i++ {
		if err := w.value(path + "[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	_, _, err := w.token() // ]
	return err
}

func (w *jsonWalker) object(path string) error {
	seen := map[string]bool{}
	for w.dec.More() {
		tok, raw, err := w.token()
		if err != nil {
			return err
		}
		name := tok.(string)
		member := "field " + name
		if path != "body" {
			member = path + "[" + strconv.Quote(name) + "]"
		}
		if err := exactString(member+" (its name)", raw); err != nil {
			return err
		}
		if seen[name] {
			return fmt.Errorf("%s: given twice", member)
		}
		seen[name] = true
		if err := w.value(member); err != nil {
			return err
		}
	}
	_, _, err := w.token() // }
	return err
}

// exactString checks raw, one JSON string literal with its quotes.
func exactString(path string, raw []byte) error {
	if !utf8.Valid(raw) {
		for i := 0; i < len(raw); {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return fmt.Errorf("%s: invalid UTF-8 at byte %d of the string %s", path, i-1, quoteRaw(raw))
			}
			i += size
		}
	}
	for i := 1; i < len(raw)-1; i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] != 'u' {
			i++
			continue
		}
		r := hex4(raw[i+2 : i+6])
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if lo := hex4(raw[i+8 : i+12]); lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
			}
			return fmt.Errorf("%s: %s is half a surrogate pair, no character", path, raw[i:i+6])
		case r >= 0xDC00 && r < 0xE000:
			return fmt.Errorf("%s: %s is half a surrogate pair, no character", path, raw[i:i+6])
		}
		i += 5
	}
	return nil
}

// hex4 decodes four hex digits (the decoder has already checked them).
func hex4(b []byte) rune {
	n, err := strconv.ParseUint(string(b), 16, 32)
	if err != nil {
		return utf8.RuneError
	}
	return rune(n)
}

// quoteRaw shows a string literal's content with every byte that is not
// printable ASCII escaped, cut at 64 bytes.
func quoteRaw(raw []byte) string {
	content := raw[1 : len(raw)-1]
	if len(content) > 64 {
		return fmt.Sprintf("%+q...", content[:64])
	}
	return fmt.Sprintf("%+q", content)
}
