package report

import "math"

// opChunk is how many operations one chunk of each column holds: a
// history grows by chunks, never by copying all it has read.
const opChunk = 1 << 14

// opColumns are a history's operations, one column per field and no
// padding: 17 bytes an operation. Only what the analyses and plots walk is
// here; the rest is read again for the operations a page shows
// (History.fetchDetails).
type opColumns struct {
	starts [][]int64  // invocation time, ns
	lats   [][]uint32 // completion time - invocation time, ns; farLatency: in farEnds
	keys   [][]uint32 // index into History.names
	codes  [][]uint8  // f<<2 | outcome (indexes into fNames, outcomes)
	n      int
	// farEnds are the completion times of operations whose latency does
	// not fit 32 bits (over 4.29 s).
	farEnds map[int]int64
}

const farLatency = math.MaxUint32

func (c *opColumns) len() int { return c.n }

// add appends an operation invoked at start, pending, and returns its index.
func (c *opColumns) add(start int64, key uint32, f uint8) int {
	if c.n%opChunk == 0 {
		c.starts = append(c.starts, make([]int64, 0, opChunk))
		c.lats = append(c.lats, make([]uint32, 0, opChunk))
		c.keys = append(c.keys, make([]uint32, 0, opChunk))
		c.codes = append(c.codes, make([]uint8, 0, opChunk))
	}
	last := len(c.starts) - 1
	c.starts[last] = append(c.starts[last], start)
	c.lats[last] = append(c.lats[last], 0)
	c.keys[last] = append(c.keys[last], key)
	c.codes[last] = append(c.codes[last], f<<2|outcomePendingCode)
	c.n++
	return c.n - 1
}

// complete records operation i's completion at end with an outcome code.
func (c *opColumns) complete(i int, end int64, outcome uint8) {
	lat := end - c.start(i)
	if lat >= farLatency {
		if c.farEnds == nil {
			c.farEnds = map[int]int64{}
		}
		c.farEnds[i] = end
		lat = farLatency
	}
	c.lats[i/opChunk][i%opChunk] = uint32(lat)
	code := &c.codes[i/opChunk][i%opChunk]
	*code = *code&^3 | outcome
}

func (c *opColumns) start(i int) int64 { return c.starts[i/opChunk][i%opChunk] }
func (c *opColumns) key(i int) uint32  { return c.keys[i/opChunk][i%opChunk] }
func (c *opColumns) f(i int) uint8     { return c.codes[i/opChunk][i%opChunk] >> 2 }

func (c *opColumns) outcome(i int) uint8 { return c.codes[i/opChunk][i%opChunk] & 3 }

// end is operation i's completion time; historyEnd for a pending one.
func (c *opColumns) end(i int, historyEnd int64) int64 {
	if c.outcome(i) == outcomePendingCode {
		return max(historyEnd, c.start(i))
	}
	lat := c.lats[i/opChunk][i%opChunk]
	if lat == farLatency {
		return c.farEnds[i]
	}
	return c.start(i) + int64(lat)
}
