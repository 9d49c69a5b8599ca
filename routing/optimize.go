package routing

import (
	"math"
)

// entry is one feature of an example: its index and how often it occurs.
type entry struct {
	f int32
	v float32
}

// problem is a weighted multinomial logistic regression with an L2 pull
// towards prior weights:
//
//	minimise  Σᵢ aᵢ · −log softmax(scale·(b + W·xᵢ) + offᵢ)[yᵢ]
//	          + l2/2 · ‖W − P‖² + biasL2/2 · ‖b − b₀‖²
//
// The parameters are W (features × classes, row-major) followed by b.
// Everything runs in a fixed order, so the result is deterministic.
type problem struct {
	nf     int
	rows   [][]entry
	y      []int
	a      []float64
	off    [][numClasses]float64
	scale  float64
	prior  []float64 // nf × numClasses
	l2     float64
	l2f    []float32 // per feature, a factor on l2; nil: 1 for all
	bias0  [numClasses]float64
	biasL2 float64
	// fixedBias keeps b at bias0.
	fixedBias bool
}

func newProblem(nf int) *problem {
	return &problem{nf: nf, prior: make([]float64, nf*numClasses), scale: 1}
}

func (p *problem) add(row []entry, y int, a float64, off [numClasses]float64) {
	p.rows = append(p.rows, row)
	p.y = append(p.y, y)
	p.a = append(p.a, a)
	p.off = append(p.off, off)
}

// initial starts from the prior and the prior bias.
func (p *problem) initial() []float64 {
	theta := make([]float64, p.nf*numClasses+numClasses)
	copy(theta, p.prior)
	copy(theta[p.nf*numClasses:], p.bias0[:])
	return theta
}

// eval returns the objective at theta and writes its gradient to grad.
func (p *problem) eval(theta, grad []float64) float64 {
	clear(grad)
	nw := p.nf * numClasses
	w, b := theta[:nw], theta[nw:]
	gw, gb := grad[:nw], grad[nw:]
	loss := 0.0
	for i, row := range p.rows {
		var z [numClasses]float64
		for c := range z {
			z[c] = b[c]
		}
		for _, e := range row {
			base := int(e.f) * numClasses
			v := float64(e.v)
			for c := range numClasses {
				z[c] += v * w[base+c]
			}
		}
		for c := range z {
			z[c] = p.scale*z[c] + p.off[i][c]
		}
		prob := softmax(z)
		loss -= p.a[i] * math.Log(max(prob[p.y[i]], 1e-300))
		var d [numClasses]float64
		for c := range d {
			d[c] = prob[c]
			if c == p.y[i] {
				d[c]--
			}
			d[c] *= p.a[i] * p.scale
			gb[c] += d[c]
		}
		for _, e := range row {
			base := int(e.f) * numClasses
			v := float64(e.v)
			for c := range numClasses {
				gw[base+c] += v * d[c]
			}
		}
	}
	for j := range w {
		diff := w[j] - p.prior[j]
		l2 := p.l2
		if p.l2f != nil {
			l2 *= float64(p.l2f[j/numClasses])
		}
		loss += l2 / 2 * diff * diff
		gw[j] += l2 * diff
	}
	if p.fixedBias {
		clear(gb)
	}
	if p.biasL2 > 0 {
		for c := range b {
			diff := b[c] - p.bias0[c]
			loss += p.biasL2 / 2 * diff * diff
			gb[c] += p.biasL2 * diff
		}
	}
	return loss
}

// solve minimises the objective with L-BFGS from theta (which it
// overwrites and returns), for at most maxIter iterations.
func (p *problem) solve(theta []float64, maxIter int) []float64 {
	const (
		history = 8
		gtol    = 1e-5
		ftol    = 1e-10
	)
	n := len(theta)
	grad := make([]float64, n)
	f := p.eval(theta, grad)
	var (
		ss, ys [][]float64
		rho    []float64
	)
	dir := make([]float64, n)
	next := make([]float64, n)
	nextGrad := make([]float64, n)
	alpha := make([]float64, history)
	for iter := 0; iter < maxIter; iter++ {
		if maxAbs(grad) < gtol {
			break
		}
		// Two-loop recursion: dir = −H·grad.
		copy(dir, grad)
		for k := len(ss) - 1; k >= 0; k-- {
			alpha[k] = rho[k] * dot(ss[k], dir)
			axpy(-alpha[k], ys[k], dir)
		}
		if k := len(ss) - 1; k >= 0 {
			scaleVec(dot(ss[k], ys[k])/dot(ys[k], ys[k]), dir)
		} else {
			scaleVec(1/math.Max(1, norm(grad)), dir)
		}
		for k := range ss {
			beta := rho[k] * dot(ys[k], dir)
			axpy(alpha[k]-beta, ss[k], dir)
		}
		for i := range dir {
			dir[i] = -dir[i]
		}
		slope := dot(grad, dir)
		if slope >= 0 { // not a descent direction: restart from the gradient
			ss, ys, rho = ss[:0], ys[:0], rho[:0]
			for i := range dir {
				dir[i] = -grad[i]
			}
			slope = dot(grad, dir)
		}
		// Backtracking line search (Armijo).
		step := 1.0
		var fNext float64
		ok := false
		for range 40 {
			for i := range next {
				next[i] = theta[i] + step*dir[i]
			}
			fNext = p.eval(next, nextGrad)
			if fNext <= f+1e-4*step*slope {
				ok = true
				break
			}
			step /= 2
		}
		if !ok {
			break
		}
		var s, y []float64
		if len(ss) == history { // reuse the oldest pair's memory
			s, y = ss[0], ys[0]
			ss, ys, rho = ss[1:], ys[1:], rho[1:]
		} else {
			s, y = make([]float64, n), make([]float64, n)
		}
		for i := range s {
			s[i] = next[i] - theta[i]
			y[i] = nextGrad[i] - grad[i]
		}
		if sy := dot(s, y); sy > 1e-12 {
			ss, ys, rho = append(ss, s), append(ys, y), append(rho, 1/sy)
		}
		converged := math.Abs(f-fNext) <= ftol*math.Max(1, math.Abs(f))
		theta, next = next, theta
		grad, nextGrad = nextGrad, grad
		f = fNext
		if converged {
			break
		}
	}
	return theta
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(alpha float64, x, y []float64) {
	for i := range x {
		y[i] += alpha * x[i]
	}
}

func scaleVec(alpha float64, x []float64) {
	for i := range x {
		x[i] *= alpha
	}
}

func norm(x []float64) float64 { return math.Sqrt(dot(x, x)) }

func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}
