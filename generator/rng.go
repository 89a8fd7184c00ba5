package generator

import (
	"math"
	"math/bits"
)

// rng is wyrand, a tiny fast 64-bit generator. The package carries its own
// instead of math/rand so that a seed produces the same bytes with every Go
// release: the sample files in testdata/samples are compared byte for byte.
type rng struct{ state uint64 }

// newRNG derives an independent stream from the run's seed and a stream
// number, so that shops (and the delivery layer) draw from streams that do
// not shift when another shop draws more or less.
func newRNG(seed int64, stream uint64) rng {
	return rng{state: splitmix64(uint64(seed) ^ splitmix64(stream+0x632be59bd9b4e019))}
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (r *rng) uint64() uint64 {
	r.state += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.state, r.state^0xe7037ed1a0b428db)
	return hi ^ lo
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float64 { return float64(r.uint64()>>11) * 0x1p-53 }

// chance is true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// intn returns a uniform value in [0, n); n must be > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.uint64(), uint64(n))
	return int(hi)
}

// between returns a uniform value in [lo, hi); hi must be > lo.
func (r *rng) between(lo, hi int64) int64 {
	hi2, _ := bits.Mul64(r.uint64(), uint64(hi-lo))
	return lo + int64(hi2)
}

// exp returns an exponentially distributed value with the given mean.
func (r *rng) exp(mean float64) float64 { return -mean * math.Log(1-r.float()) }

// normal approximates a standard normal value by the sum of four uniforms
// (Irwin–Hall): plenty for traffic shapes, and cheaper than Box–Muller.
func (r *rng) normal() float64 {
	s := r.float() + r.float() + r.float() + r.float()
	return (s - 2) * 1.7320508075688772
}

// logNormal returns a log-normal value: median·e^(sigma·N(0,1)). Human
// delays (typing, replying, waiting) are skewed like this.
func (r *rng) logNormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.normal())
}

// cumulative turns relative weights into a table for pick.
func cumulative(weights ...float64) []float64 {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	out := make([]float64, len(weights))
	var acc float64
	for i, w := range weights {
		acc += w
		out[i] = acc / sum
	}
	out[len(out)-1] = 1
	return out
}

// pick returns an index drawn with the weights of a cumulative table.
func (r *rng) pick(cum []float64) int {
	u := r.float()
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}
