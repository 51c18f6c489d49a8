package serve

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/campaign"
)

// FuzzLaunchJSON feeds arbitrary bodies to POST /api/campaigns' parser. It
// must never panic; a refusal is a *campaign.FieldError naming a field (what
// the API turns into a 400); an accepted body gives options that validate
// and the same options every time.
func FuzzLaunchJSON(f *testing.F) {
	f.Add(`{"runtime":"process","nodes":3,"duration":"20s","workload":"append","nemesis":"partition,kill"}`)
	f.Add(`{"nemesis":"partition:isolate-leader","bugs":["ack-before-commit"],"seed":7}`)
	f.Add(`{"duration":20000000000,"interval":"2s","bugs":"no-dedup,stale-local-read"}`)
	f.Add(`{"nodes":"three"}`)
	f.Add(`{"name":"../../etc"}`)
	f.Add("{\"name\":\"a\xffb\"}")
	f.Add(`[1,2]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		o, err := parseLaunchJSON(strings.NewReader(body), "store")
		if err != nil {
			var fe *campaign.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("refusal %v is not a field error naming a field", err)
			}
			return
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("accepted %q, but the options do not validate: %v", body, err)
		}
		again, err := parseLaunchJSON(strings.NewReader(body), "store")
		if err != nil || !reflect.DeepEqual(o, again) {
			t.Fatalf("the same body parsed twice gave %+v, then %+v (%v)", o, again, err)
		}
	})
}
