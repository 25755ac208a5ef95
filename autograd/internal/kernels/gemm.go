package kernels

import (
	"math"

	"github.com/flowmatch/flowmatch/internal/cpu"
)

/*
Blocked GEMM.

Gemm follows the Goto–van de Geijn scheme (Goto & van de Geijn 2008, "Anatomy
of high-performance matrix multiplication", ACM TOMS 34(3)). With op(A) of
shape [m, k] and op(B) of shape [k, n]:

	for jc in steps of nc over n:             B block  [kc, nc] packed once, stays in L3
	  for pc in steps of kc over k:
	    pack op(B)[pc:pc+kc, jc:jc+nc] into panels of nr columns
	    for ic in steps of mc over m:           A block [mc, kc] packed, stays in L2
	      pack op(A)[ic:ic+mc, pc:pc+kc] into panels of mr rows
	      for jr in steps of nr:                B micro-panel [kc, nr] stays in L1
	        for ir in steps of mr:
	          C[mr, nr] tile = alpha·Ã·B̃ + β'·C tile     (micro-kernel)

where β' is beta for the first k block and 1 after it. Packing absorbs the
four transA/transB layouts, so the micro-kernel sees one layout only: a packed
A micro-panel is k columns of mr consecutive values, a packed B micro-panel is
k rows of nr consecutive values; panels at the edges are zero-padded, and
their tiles are computed into a scratch tile and merged into C.

The summation order for each C element is a plain left-to-right sum over each
k block (the micro-kernel keeps one accumulator per element), so results are
deterministic and their rounding error is bounded, as for the reference loop,
by |Δ| ≤ k·u·Σ_p |op(A)_ip|·|op(B)_pj| (u = 2⁻⁵³), to first order.
*/

// Below this many multiply-adds (m·n·k) Gemm runs the unpacked loop:
// packing and a pool round trip cost more than they save.
const gemmSmall = 4 * 4 * 16

// A microKernel computes an mr×nr tile from micro-panels whose k steps lie
// lda and ldb elements apart (mr and nr when packed):
//
//	c[r*ldc+j] = alpha·Σ_p a[p*lda+r]·b[p*ldb+j] + beta·c[r*ldc+j],  r < mr, j < nr
//
// reading no element of c when beta is 0. run is the packed case
// (lda = mr, ldb = nr); strided is the general one, used to read an operand
// in place when its layout already has contiguous k steps and it would be
// read only once. With fused set, the sum is one fused multiply-add chain
// and the store is c = fma(beta, c, alpha·Σ) (alpha·Σ rounded); otherwise
// products and sums round separately and the store rounds alpha·Σ and
// beta·c before adding them. Edge tiles are merged into C the same way.
type microKernel struct {
	name    string // for reports and tunedPlans: "Go 8x8", "AVX2+FMA assembly 6x8"
	mr, nr  int
	fused   bool
	avx512  bool // uses 512-bit registers (see preferKernel)
	run     func(k int, a, b, c []float64, ldc int, alpha, beta float64)
	strided func(k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)
}

// goKernel is the portable micro-kernel; gemm_amd64.go adds assembly ones
// when the CPU has AVX2 and FMA, and AVX-512F; gemm_arm64.go the NEON one.
var goKernel = microKernel{
	name:    "Go 8x8",
	mr:      8,
	nr:      8,
	run:     kern8x8,
	strided: kern8x8s,
}

// gemmKernels lists the micro-kernels this machine can run, the portable
// one first; gemmDefault is the plan Gemm uses (gemm_plan.go).
var (
	gemmKernels = append([]*microKernel{&goKernel}, archKernels()...)
	gemmDefault = choosePlan(gemmKernels, cpu.Detect())
)

// availableKernels returns the micro-kernels this machine can run, the
// portable one first.
func availableKernels() []*microKernel { return gemmKernels }

// maxTile is the largest mr·nr of any kernel.
const maxTile = 128

// Scratch holds the packing buffers of one goroutine: a parallel call's
// runner (gemm_parallel.go) or a serial Gemm's, from gemmFree. a and b grow
// to the largest blocks asked for and are then reused.
type Scratch struct {
	a, b []float64
	tmp  [maxTile]float64 // one edge tile
	dot  [8]float64       // dotKernel's output
}

// grow returns buf with at least n elements, reusing it when it can.
func grow(buf []float64, n int) []float64 {
	if cap(buf) >= n {
		return buf[:cap(buf)]
	}
	return make([]float64, n)
}

// gemmFree holds packing buffers between calls. Unlike a sync.Pool it is not
// emptied by the garbage collector, so steady-state calls never allocate.
var gemmFree = make(chan *Scratch, 4)

func getScratch() *Scratch {
	select {
	case s := <-gemmFree:
		return s
	default:
		return new(Scratch)
	}
}

func putScratch(s *Scratch) {
	select {
	case gemmFree <- s:
	default:
	}
}

func gemm(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	gemmWith(nil, transA, transB, m, n, k, alpha, a, b, beta, c)
}

// gemmWith is Gemm with the packing buffers s; with s nil it may split the
// product across threads, and a serial product takes buffers from gemmFree.
func gemmWith(s *Scratch, transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	if m == 0 || n == 0 {
		return
	}
	c = c[:m*n]
	if k == 0 {
		for i, v := range c {
			if beta == 0 {
				c[i] = alpha * 0
			} else {
				c[i] = alpha*0 + beta*v
			}
		}
		return
	}
	a = a[:m*k]
	b = b[:k*n]
	if m*n*k < gemmSmall {
		gemmUnpacked(transA, transB, m, n, k, alpha, a, b, beta, c)
		return
	}
	if s != nil {
		gemmRows(gemmDefault, s, transA, transB, m, n, k, alpha, a, b, beta, c, 0, m)
		return
	}
	if m*n*k >= gemmParallelMin && Threads() > 1 && gemmParallel(transA, transB, m, n, k, alpha, a, b, beta, c) {
		return
	}
	s = getScratch()
	gemmRows(gemmDefault, s, transA, transB, m, n, k, alpha, a, b, beta, c, 0, m)
	putScratch(s)
}

// gemmRows computes rows [i0, i1) of C with plan p and packing buffers s.
// For any i0 that is a multiple of 4 (gemmDot's rows), each element is
// computed by the same operations as when all rows are computed at once
// (see gemmParallel and gemm_plan.go).
func gemmRows(p *gemmPlan, s *Scratch, transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64, i0, i1 int) {
	if !transA && n <= 4 && k >= 8 {
		s.b = grow(s.b, n*k)
		gemmDot(s, transB, i1-i0, n, k, alpha, a[i0*k:i1*k], b, beta, c[i0*n:i1*n])
		return
	}
	gemmBlockedRows(p, s, transA, transB, m, n, k, alpha, a, b, beta, c, i0, i1)
}

// gemmBlocked is the blocked GEMM described at the top of this file, with
// plan p and packing buffers s.
//
// When op(B) has contiguous rows (transB false) and m ≤ mr, each element of B
// is read once, so B is read in place rather than packed; likewise op(A)
// when it has contiguous columns (transA true) and n ≤ nr. Only edge panels
// are packed then.
func gemmBlocked(p *gemmPlan, s *Scratch, transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	gemmBlockedRows(p, s, transA, transB, m, n, k, alpha, a, b, beta, c, 0, m)
}

// gemmBlockedRows is gemmBlocked restricted to rows [i0, i1) of C.
func gemmBlockedRows(p *gemmPlan, s *Scratch, transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64, i0, i1 int) {
	kn := p.kn
	mr, nr := kn.mr, kn.nr
	// A blocks of equal height mcb ≤ p.mc, a multiple of mr: a short
	// last block would stream all of B̃ from L2 for few rows.
	nb := (i1 - i0 + p.mc - 1) / p.mc
	mcb := ((i1-i0+nb-1)/nb + mr - 1) / mr * mr
	kcMax, ncMax := min(p.kc, k), min(p.nc, n)
	s.a = grow(s.a, mcb*kcMax)
	s.b = grow(s.b, (ncMax+nr-1)/nr*nr*kcMax)
	inplaceA := transA && n <= nr
	inplaceB := !transB && m <= mr
	for jc := 0; jc < n; jc += p.nc {
		nc := min(p.nc, n-jc)
		for pc := 0; pc < k; pc += p.kc {
			kc := min(p.kc, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			if !inplaceB {
				packB(s.b[:], transB, b, n, k, pc, jc, kc, nc, nr)
			}
			for ic := i0; ic < i1; ic += mcb {
				mc := min(mcb, i1-ic)
				if !inplaceA {
					packA(s.a[:], transA, a, m, k, ic, pc, mc, kc, mr)
				}
				for jr := 0; jr < nc; jr += nr {
					nrb := min(nr, nc-jr)
					bp, ldb := s.b[jr*kc:(jr+nr)*kc], nr
					if inplaceB {
						if nrb == nr {
							off := pc*n + jc + jr
							bp, ldb = b[off:off+(kc-1)*n+nr], n
						} else {
							packB(s.b[:], transB, b, n, k, pc, jc+jr, kc, nrb, nr)
							bp = s.b[:nr*kc]
						}
					}
					for ir := 0; ir < mc; ir += mr {
						mrb := min(mr, mc-ir)
						ap, lda := s.a[ir*kc:(ir+mr)*kc], mr
						if inplaceA {
							if mrb == mr {
								off := pc*m + ic + ir
								ap, lda = a[off:off+(kc-1)*m+mr], m
							} else {
								packA(s.a[:], transA, a, m, k, ic+ir, pc, mrb, kc, mr)
								ap = s.a[:mr*kc]
							}
						}
						ci := (ic+ir)*n + jc + jr
						full := mrb == mr && nrb == nr
						tile, ldc, tb := s.tmp[:mr*nr], nr, 0.0
						if full {
							tile, ldc, tb = c[ci:ci+(mr-1)*n+nr], n, bet
						}
						if lda == mr && ldb == nr {
							kn.run(kc, ap, bp, tile, ldc, alpha, tb)
						} else {
							kn.strided(kc, ap, lda, bp, ldb, tile, ldc, alpha, tb)
						}
						if full {
							continue
						}
						for r := 0; r < mrb; r++ {
							cr := c[ci+r*n : ci+r*n+nrb]
							tr := tile[r*nr : r*nr+nrb]
							if bet == 0 {
								copy(cr, tr)
								continue
							}
							if kn.fused { // as the assembly kernels store
								for j, v := range tr {
									cr[j] = math.FMA(bet, cr[j], v)
								}
								continue
							}
							for j, v := range tr {
								cr[j] = v + float64(bet*cr[j]) // as storeRow4 rounds
							}
						}
					}
				}
			}
		}
	}
}

// dotKernel computes out[2r+j] = Σ_{p<kd} a[r*lda+p]·bj[p] for the rows
// r < 4 of a and the vectors b0, b1, and returns kd: the leading part of the
// k steps it summed (all of them, or a multiple of a vector width). The
// caller adds the remaining terms. gemm_amd64.go replaces it with an AVX2 one.
var dotKernel = func(k int, a []float64, lda int, b0, b1 []float64, out *[8]float64) int {
	b0, b1 = b0[:k], b1[:k]
	for r := 0; r < 4; r++ {
		ar := a[r*lda : r*lda+k]
		var s0, s1 float64
		for p, v := range ar {
			s0 += v * b0[p]
			s1 += v * b1[p]
		}
		out[2*r], out[2*r+1] = s0, s1
	}
	return k
}

// gemmDot computes Gemm for a row-major A (transA false) and narrow C
// (n ≤ 4): each c[i, j] is the dot product of row i of A with column j of
// op(B), which is copied into s.b first unless B is stored transposed. A is
// read once, in place; the blocked path would pack all of it and pad n to nr.
func gemmDot(s *Scratch, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	var bt [4][]float64 // bt[j][p] = op(B)[p, j]
	for j := 0; j < n; j++ {
		if transB {
			bt[j] = b[j*k : (j+1)*k]
			continue
		}
		col := s.b[j*k : (j+1)*k]
		for p := range col {
			col[p] = b[p*n+j]
		}
		bt[j] = col
	}
	store := func(i int, v float64) {
		if beta == 0 {
			c[i] = alpha * v
		} else {
			c[i] = alpha*v + beta*c[i]
		}
	}
	out := &s.dot
	i := 0
	for ; i+4 <= m; i += 4 {
		for j := 0; j < n; j += 2 {
			j1 := min(j+1, n-1)
			kd := dotKernel(k, a[i*k:], k, bt[j], bt[j1], out)
			for r := 0; r < 4; r++ {
				ar := a[(i+r)*k : (i+r+1)*k]
				s0, s1 := out[2*r], out[2*r+1]
				for p := kd; p < k; p++ {
					s0 += ar[p] * bt[j][p]
					s1 += ar[p] * bt[j1][p]
				}
				store((i+r)*n+j, s0)
				if j+1 < n {
					store((i+r)*n+j+1, s1)
				}
			}
		}
	}
	for ; i < m; i++ {
		ar := a[i*k : (i+1)*k]
		for j := 0; j < n; j++ {
			v := 0.0
			for p, x := range ar {
				v += x * bt[j][p]
			}
			store(i*n+j, v)
		}
	}
}

// packA copies op(A)[i0:i0+mc, p0:p0+kc] into dst as panels of mr rows:
// dst[ip*kc + p*mr + r] = op(A)[i0+ip+r, p0+p] for panel ip (a multiple of
// mr), zero for rows past mc. A is [m, k], or [k, m] when trans is true.
// Full panels of 6 rows, those of the assembly micro-kernel, are copied by
// packA6, without a call per k step.
func packA(dst []float64, trans bool, a []float64, m, k, i0, p0, mc, kc, mr int) {
	for ip := 0; ip < mc; ip += mr {
		rows := min(mr, mc-ip)
		d := dst[ip*kc : (ip+mr)*kc]
		if rows == 6 && mr == 6 {
			packA6(d, trans, a, m, k, i0+ip, p0, kc)
			continue
		}
		if trans { // op(A)[i, p] = a[p*m+i]
			packStrip(d, a[p0*m+i0+ip:], kc, mr, rows, m, 1)
		} else { // op(A)[i, p] = a[i*k+p]
			packStrip(d, a[(i0+ip)*k+p0:], kc, mr, rows, 1, k)
		}
	}
}

// packStrip packs one panel of w lanes (rows of A or columns of B) over kc
// steps of the inner dimension, lanes past cnt zero:
//
//	d[p*w + c] = src[p*ps + c*cs]   for p < kc, c < cnt
//	d[p*w + c] = 0                  for p < kc, cnt ≤ c < w
//
// It serves the partial panels at the matrix edges (full panels go through
// packA6 and packB8), reading src along its contiguous direction.
func packStrip(d, src []float64, kc, w, cnt, ps, cs int) {
	if cs == 1 { // each step of p is a contiguous run of cnt lanes
		for p := 0; p < kc; p++ {
			dp := d[p*w : p*w+w]
			copy(dp, src[p*ps:p*ps+cnt])
			clear(dp[cnt:])
		}
		return
	}
	for c := 0; c < cnt; c++ { // each lane is a contiguous run of kc steps
		for p, v := range src[c*cs : c*cs+kc] {
			d[p*w+c] = v
		}
	}
	for c := cnt; c < w; c++ {
		for p := 0; p < kc; p++ {
			d[p*w+c] = 0
		}
	}
}

// packA6 is packA for one full panel of 6 rows starting at row i:
// d[p*6 + r] = op(A)[i+r, p0+p].
func packA6(d []float64, trans bool, a []float64, m, k, i, p0, kc int) {
	d = d[:6*kc]
	if trans {
		for p := 0; p < kc; p++ {
			// Element by element: an array assignment would call memmove.
			s, dp := (*[6]float64)(a[(p0+p)*m+i:]), (*[6]float64)(d[6*p:])
			dp[0], dp[1], dp[2], dp[3], dp[4], dp[5] = s[0], s[1], s[2], s[3], s[4], s[5]
		}
		return
	}
	r0 := a[i*k+p0:][:kc]
	r1 := a[(i+1)*k+p0:][:kc]
	r2 := a[(i+2)*k+p0:][:kc]
	r3 := a[(i+3)*k+p0:][:kc]
	r4 := a[(i+4)*k+p0:][:kc]
	r5 := a[(i+5)*k+p0:][:kc]
	for p := range r0 {
		dp := (*[6]float64)(d[6*p:])
		dp[0], dp[1], dp[2], dp[3], dp[4], dp[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into dst as panels of nr columns:
// dst[jp*kc + p*nr + j] = op(B)[p0+p, j0+jp+j] for panel jp (a multiple of
// nr), zero for columns past nc. B is [k, n], or [n, k] when trans is true.
// Full panels of 8 columns, those of the assembly micro-kernel, are copied
// by packB8, without a call per k step.
func packB(dst []float64, trans bool, b []float64, n, k, p0, j0, kc, nc, nr int) {
	for jp := 0; jp < nc; jp += nr {
		cols := min(nr, nc-jp)
		d := dst[jp*kc : (jp+nr)*kc]
		if cols == 8 && nr == 8 {
			packB8(d, trans, b, n, k, p0, j0+jp, kc)
			continue
		}
		if !trans { // op(B)[p, j] = b[p*n+j]
			packStrip(d, b[p0*n+j0+jp:], kc, nr, cols, n, 1)
		} else { // op(B)[p, j] = b[j*k+p]
			packStrip(d, b[(j0+jp)*k+p0:], kc, nr, cols, 1, k)
		}
	}
}

// packB8 is packB for one full panel of 8 columns starting at column j:
// d[p*8 + c] = op(B)[p0+p, j+c].
func packB8(d []float64, trans bool, b []float64, n, k, p0, j, kc int) {
	d = d[:8*kc]
	if !trans {
		for p := 0; p < kc; p++ {
			// Element by element: an array assignment would call memmove.
			s, dp := (*[8]float64)(b[(p0+p)*n+j:]), (*[8]float64)(d[8*p:])
			dp[0], dp[1], dp[2], dp[3] = s[0], s[1], s[2], s[3]
			dp[4], dp[5], dp[6], dp[7] = s[4], s[5], s[6], s[7]
		}
		return
	}
	c0 := b[j*k+p0:][:kc]
	c1 := b[(j+1)*k+p0:][:kc]
	c2 := b[(j+2)*k+p0:][:kc]
	c3 := b[(j+3)*k+p0:][:kc]
	c4 := b[(j+4)*k+p0:][:kc]
	c5 := b[(j+5)*k+p0:][:kc]
	c6 := b[(j+6)*k+p0:][:kc]
	c7 := b[(j+7)*k+p0:][:kc]
	for p := range c0 {
		dp := (*[8]float64)(d[8*p:])
		dp[0], dp[1], dp[2], dp[3] = c0[p], c1[p], c2[p], c3[p]
		dp[4], dp[5], dp[6], dp[7] = c4[p], c5[p], c6[p], c7[p]
	}
}

// kern8x8 is the portable micro-kernel, mr = nr = 8, on packed panels (see
// microKernel). Each element of the tile is a plain left-to-right sum over
// the k steps of products rounded before they are added, float64(a·b) + s:
// the conversion keeps the compiler from fusing them on arm64, so the
// kernel gives the same bits on every architecture
// (TestGoKernel_MatchesReference).
//
// Go's compiler neither vectorizes nor uses three-operand instructions on
// the default GOAMD64=v1, and its scheduler computes every product of a
// basic block before the sums that feed the next loop iteration, so 16 or
// more accumulators in registers spill (the former 4×4 kernel). Instead the
// 8×8 tile lives in a local array (L1, store-forwarded) and each element
// takes eight k steps at once: per column j, B's eight values b[p..p+7][j]
// are loaded into registers, and for each of the 8 rows
//
//	t[r][j] = t[r][j] + a[p][r]·b[p][j] + … + a[p+7][r]·b[p+7][j]
//
// left to right: a load of A's value, a multiply, an add per product, one
// load (folded into the first add) and one store of the tile per eight
// products, about 3.1 instructions per multiply-add where one k step at a
// time (kern8x8's former body) took 4.25: a copy, a multiply, an add from
// the tile in memory and a store back. The scalar peak is 2 multiplies and
// 2 adds a cycle (BenchmarkScalarPeak), and the kernel is bound by the
// instructions the core retires a cycle rather than by the floating-point
// pipes. k mod 8 steps run one at a time. Measured against the former body,
// alternating, CPU time per product (docs/PERFORMANCE.md).
func kern8x8(k int, a, b, c []float64, ldc int, alpha, beta float64) {
	var t [8][8]float64
	a, b = a[:8*k], b[:8*k]
	for len(a) >= 64 && len(b) >= 64 {
		ap, bp := (*[64]float64)(a), (*[64]float64)(b)
		for j := range 8 {
			b0, b1, b2, b3, b4, b5, b6, b7 := bp[j], bp[8+j], bp[16+j], bp[24+j], bp[32+j], bp[40+j], bp[48+j], bp[56+j]
			t[0][j] = t[0][j] + float64(ap[0]*b0) + float64(ap[8]*b1) + float64(ap[16]*b2) + float64(ap[24]*b3) + float64(ap[32]*b4) + float64(ap[40]*b5) + float64(ap[48]*b6) + float64(ap[56]*b7)
			t[1][j] = t[1][j] + float64(ap[1]*b0) + float64(ap[9]*b1) + float64(ap[17]*b2) + float64(ap[25]*b3) + float64(ap[33]*b4) + float64(ap[41]*b5) + float64(ap[49]*b6) + float64(ap[57]*b7)
			t[2][j] = t[2][j] + float64(ap[2]*b0) + float64(ap[10]*b1) + float64(ap[18]*b2) + float64(ap[26]*b3) + float64(ap[34]*b4) + float64(ap[42]*b5) + float64(ap[50]*b6) + float64(ap[58]*b7)
			t[3][j] = t[3][j] + float64(ap[3]*b0) + float64(ap[11]*b1) + float64(ap[19]*b2) + float64(ap[27]*b3) + float64(ap[35]*b4) + float64(ap[43]*b5) + float64(ap[51]*b6) + float64(ap[59]*b7)
			t[4][j] = t[4][j] + float64(ap[4]*b0) + float64(ap[12]*b1) + float64(ap[20]*b2) + float64(ap[28]*b3) + float64(ap[36]*b4) + float64(ap[44]*b5) + float64(ap[52]*b6) + float64(ap[60]*b7)
			t[5][j] = t[5][j] + float64(ap[5]*b0) + float64(ap[13]*b1) + float64(ap[21]*b2) + float64(ap[29]*b3) + float64(ap[37]*b4) + float64(ap[45]*b5) + float64(ap[53]*b6) + float64(ap[61]*b7)
			t[6][j] = t[6][j] + float64(ap[6]*b0) + float64(ap[14]*b1) + float64(ap[22]*b2) + float64(ap[30]*b3) + float64(ap[38]*b4) + float64(ap[46]*b5) + float64(ap[54]*b6) + float64(ap[62]*b7)
			t[7][j] = t[7][j] + float64(ap[7]*b0) + float64(ap[15]*b1) + float64(ap[23]*b2) + float64(ap[31]*b3) + float64(ap[39]*b4) + float64(ap[47]*b5) + float64(ap[55]*b6) + float64(ap[63]*b7)
		}
		a, b = a[64:], b[64:]
	}
	for len(a) >= 8 && len(b) >= 8 {
		bp := (*[8]float64)(b)
		b0, b1, b2, b3, b4, b5, b6, b7 := bp[0], bp[1], bp[2], bp[3], bp[4], bp[5], bp[6], bp[7]
		for r, ar := range (*[8]float64)(a) {
			tr := &t[r]
			tr[0] += float64(ar * b0)
			tr[1] += float64(ar * b1)
			tr[2] += float64(ar * b2)
			tr[3] += float64(ar * b3)
			tr[4] += float64(ar * b4)
			tr[5] += float64(ar * b5)
			tr[6] += float64(ar * b6)
			tr[7] += float64(ar * b7)
		}
		a, b = a[8:], b[8:]
	}
	storeTile8x8(&t, c, ldc, alpha, beta)
}

// kern8x8s is kern8x8 with A's k steps lda elements apart and B's ldb
// apart, for operands read in place (used once per product, so not unrolled).
func kern8x8s(k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	var t [8][8]float64
	a = a[:(k-1)*lda+8]
	b = b[:(k-1)*ldb+8]
	for p := range k {
		bp := (*[8]float64)(b[p*ldb:])
		ap := (*[8]float64)(a[p*lda:])
		b0, b1, b2, b3, b4, b5, b6, b7 := bp[0], bp[1], bp[2], bp[3], bp[4], bp[5], bp[6], bp[7]
		for r, ar := range ap {
			tr := &t[r]
			tr[0] += float64(ar * b0)
			tr[1] += float64(ar * b1)
			tr[2] += float64(ar * b2)
			tr[3] += float64(ar * b3)
			tr[4] += float64(ar * b4)
			tr[5] += float64(ar * b5)
			tr[6] += float64(ar * b6)
			tr[7] += float64(ar * b7)
		}
	}
	storeTile8x8(&t, c, ldc, alpha, beta)
}

// storeTile8x8 writes c[r*ldc+j] = alpha·t[r][j] + beta·c[r*ldc+j], not
// reading c when beta is 0.
func storeTile8x8(t *[8][8]float64, c []float64, ldc int, alpha, beta float64) {
	for r := range 8 {
		tr := &t[r]
		storeRow4(c[r*ldc:r*ldc+4], alpha, beta, tr[0], tr[1], tr[2], tr[3])
		storeRow4(c[r*ldc+4:r*ldc+8], alpha, beta, tr[4], tr[5], tr[6], tr[7])
	}
}

func storeRow4(c []float64, alpha, beta, s0, s1, s2, s3 float64) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
		return
	}
	// float64(…) rounds each product, so that no architecture fuses one
	// into the sum: edge tiles, merged below in gemmBlockedRows, round the
	// same way, and results stay bit-identical across thread counts.
	c[0] = float64(alpha*s0) + float64(beta*c[0])
	c[1] = float64(alpha*s1) + float64(beta*c[1])
	c[2] = float64(alpha*s2) + float64(beta*c[2])
	c[3] = float64(alpha*s3) + float64(beta*c[3])
}

// gemmUnpacked is the reference loop with the layout tests hoisted out of
// the inner loop, for products too small to be worth packing.
func gemmUnpacked(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	// Strides of op(A) and op(B): op(A)[i, p] = a[i*ai + p*ap], op(B)[p, j] = b[p*bp + j*bj].
	ai, ap := k, 1
	if transA {
		ai, ap = 1, m
	}
	bp, bj := n, 1
	if transB {
		bp, bj = 1, k
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			ia, jb := i*ai, j*bj
			for p := 0; p < k; p++ {
				s += a[ia+p*ap] * b[p*bp+jb]
			}
			if beta == 0 {
				c[i*n+j] = alpha * s
			} else {
				c[i*n+j] = alpha*s + beta*c[i*n+j]
			}
		}
	}
}
