//go:build !purego

#include "textflag.h"

// Vectorized exp and the activations built on it, 4 float64 lanes with AVX2
// and FMA. The derivation and error bounds are in activation.go.

#define CONST4(name, bits) \
	DATA name<>+0(SB)/8, $bits; \
	DATA name<>+8(SB)/8, $bits; \
	DATA name<>+16(SB)/8, $bits; \
	DATA name<>+24(SB)/8, $bits; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

CONST4(expHi, 0x4086300000000000)   // 710: e^x overflows beyond 709.78
CONST4(expLo, 0xc087700000000000)   // −750: e^x rounds to 0 below −745.14
CONST4(log2e, 0x3ff71547652b82fe)   // log₂e
CONST4(ln2hi, 0x3fe62e42fee00000)   // ln2, leading 32 bits (k·ln2hi is exact)
CONST4(ln2lo, 0x3dea39ef35793c76)   // ln2 − ln2hi
CONST4(half, 0x3fe0000000000000)    // 0.5
CONST4(bias, 0x43380000000003ff)    // 1.5·2⁵² + 1023: adding it puts k+1023 in the low bits
CONST4(one, 0x3ff0000000000000)     // 1
CONST4(mtwo, 0xc000000000000000)    // −2
CONST4(signbit, 0x8000000000000000) // sign bit
CONST4(absmask, 0x7fffffffffffffff) // all but the sign bit
CONST4(c2, 0x3fe0000000000011)      // p(r) = 1 + r + Σ_{n=2}^{11} cₙ·rⁿ, near-minimax (Chebyshev
CONST4(c3, 0x3fc555555555555a)      // fit, mpmath.chebyfit) for eʳ on |r| ≤ 0.3467,
CONST4(c4, 0x3fa555555554f0aa)      // relative error 3.2·10⁻¹⁸ ≈ u/35
CONST4(c5, 0x3f8111111110f21a)
CONST4(c6, 0x3f56c16c188036ef)
CONST4(c7, 0x3f2a01a01b1481f4)
CONST4(c8, 0x3efa01991984e47a)
CONST4(c9, 0x3ec71ddf5682c530)
CONST4(c10, 0x3e928b418336ce6e)
CONST4(c11, 0x3e5af633403869ee)
CONST4(tanhCut, 0x3fe4000000000000) // 0.625
CONST4(tanhP0, 0xbfeedc5baafd6f4b)  // Cephes tanh rational, as in Go's math.Tanh
CONST4(tanhP1, 0xc058d26a0e26682d)
CONST4(tanhP2, 0xc0993ac030580563)
CONST4(tanhQ0, 0x405c33f28a581b86)
CONST4(tanhQ1, 0x40a176fa0e5535fa)
CONST4(tanhQ2, 0x40b2ec102442040c)

// tailmask+8·(4−r) holds a mask whose first r lanes are set.
DATA tailmask<>+0(SB)/8, $-1
DATA tailmask<>+8(SB)/8, $-1
DATA tailmask<>+16(SB)/8, $-1
DATA tailmask<>+24(SB)/8, $-1
DATA tailmask<>+32(SB)/8, $0
DATA tailmask<>+40(SB)/8, $0
DATA tailmask<>+48(SB)/8, $0
DATA tailmask<>+56(SB)/8, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// EXP sets R = e^X lane by lane; it clobbers X, T1, T2, T3.
//
//	x  = clamp(x, −750, 710)           (NaN passes through)
//	k  = round(x·log₂e)
//	r  = (x − k·ln2hi) − k·ln2lo       (two FMAs; the first is exact)
//	p  = 1 + r + Σ_{n=2}^{11} cₙ·rⁿ      ≈ eʳ (Horner, FMA)
//	k₁ = ⌊k/2⌋, k₂ = k − k₁
//	R  = (p·2^k₁)·2^k₂                 (only the last product can round)
#define EXP(X, R, T1, T2, T3) \
	VMOVUPD      expHi<>(SB), T1; \
	VMINPD       X, T1, X; \
	VMOVUPD      expLo<>(SB), T1; \
	VMAXPD       X, T1, X; \
	VMULPD       log2e<>(SB), X, T1; \
	VROUNDPD     $0, T1, T1; \
	VMOVAPD      X, R; \
	VFNMADD231PD ln2hi<>(SB), T1, R; \
	VFNMADD231PD ln2lo<>(SB), T1, R; \
	VMOVUPD      c11<>(SB), T2; \
	VFMADD213PD  c10<>(SB), R, T2; \
	VFMADD213PD  c9<>(SB), R, T2; \
	VFMADD213PD  c8<>(SB), R, T2; \
	VFMADD213PD  c7<>(SB), R, T2; \
	VFMADD213PD  c6<>(SB), R, T2; \
	VFMADD213PD  c5<>(SB), R, T2; \
	VFMADD213PD  c4<>(SB), R, T2; \
	VFMADD213PD  c3<>(SB), R, T2; \
	VFMADD213PD  c2<>(SB), R, T2; \
	VFMADD213PD  one<>(SB), R, T2; \
	VFMADD213PD  one<>(SB), R, T2; \
	VMULPD       half<>(SB), T1, T3; \
	VROUNDPD     $1, T3, T3; \
	VSUBPD       T3, T1, T1; \
	VADDPD       bias<>(SB), T3, T3; \
	VADDPD       bias<>(SB), T1, T1; \
	VPSLLQ       $52, T3, T3; \
	VPSLLQ       $52, T1, T1; \
	VMULPD       T3, T2, T2; \
	VMULPD       T1, T2, R

// TAILMASK sets Y15 to the mask of the first CX (1…3) lanes.
#define TAILMASK \
	MOVQ    $4, AX; \
	SUBQ    CX, AX; \
	LEAQ    tailmask<>(SB), BX; \
	VMOVUPD (BX)(AX*8), Y15

// ---------------------------------------------------------------- Exp

// Y0 = x → Y1 = e^x.
#define EXP_BODY \
	EXP(Y0, Y1, Y2, Y3, Y4)

// func expAVX2(dst, a *float64, n int)
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $4
	JLT  exptail

exploop:
	VMOVUPD (SI), Y0
	EXP_BODY
	VMOVUPD Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     exploop

exptail:
	TESTQ CX, CX
	JZ    expdone
	TAILMASK
	VMASKMOVPD (SI), Y15, Y0
	EXP_BODY
	VMASKMOVPD Y1, Y15, (DI)

expdone:
	VZEROUPPER
	RET

// ---------------------------------------------------------------- Sigmoid

// Y0 = x → Y4 = σ(x) = num/(1+e), e = e^{−|x|}, num = 1 if x ≥ 0 else e.
#define SIGMOID_BODY \
	VORPD     signbit<>(SB), Y0, Y5; \
	EXP(Y5, Y1, Y2, Y3, Y4); \
	VMOVUPD   one<>(SB), Y2; \
	VADDPD    Y2, Y1, Y3; \
	VBLENDVPD Y0, Y1, Y2, Y4; \
	VDIVPD    Y3, Y4, Y4

// func sigmoidAVX2(dst, a *float64, n int)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $4
	JLT  sigtail

sigloop:
	VMOVUPD (SI), Y0
	SIGMOID_BODY
	VMOVUPD Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     sigloop

sigtail:
	TESTQ CX, CX
	JZ    sigdone
	TAILMASK
	VMASKMOVPD (SI), Y15, Y0
	SIGMOID_BODY
	VMASKMOVPD Y4, Y15, (DI)

sigdone:
	VZEROUPPER
	RET

// ---------------------------------------------------------------- SiLU

// Y0 = x → Y4 = x·σ(x) = num/(1+e), e = e^{−|x|}, num = x if x ≥ 0 else x·e.
#define SILU_BODY \
	VORPD     signbit<>(SB), Y0, Y5; \
	EXP(Y5, Y1, Y2, Y3, Y4); \
	VADDPD    one<>(SB), Y1, Y3; \
	VMULPD    Y1, Y0, Y2; \
	VBLENDVPD Y0, Y2, Y0, Y4; \
	VDIVPD    Y3, Y4, Y4

// func siluAVX2(dst, a *float64, n int)
TEXT ·siluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $4
	JLT  silutail

siluloop:
	VMOVUPD (SI), Y0
	SILU_BODY
	VMOVUPD Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     siluloop

silutail:
	TESTQ CX, CX
	JZ    siludone
	TAILMASK
	VMASKMOVPD (SI), Y15, Y0
	SILU_BODY
	VMASKMOVPD Y4, Y15, (DI)

siludone:
	VZEROUPPER
	RET

// func addRowSiLUAVX2(pre, out, a, row *float64, n int)
TEXT ·addRowSiLUAVX2(SB), NOSPLIT, $0-40
	MOVQ pre+0(FP), R8
	MOVQ out+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ row+24(FP), DX
	MOVQ n+32(FP), CX
	CMPQ CX, $4
	JLT  arstail

arsloop:
	VMOVUPD (SI), Y0
	VADDPD  (DX), Y0, Y0
	VMOVUPD Y0, (R8)
	SILU_BODY
	VMOVUPD Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     arsloop

arstail:
	TESTQ CX, CX
	JZ    arsdone
	TAILMASK
	VMASKMOVPD (SI), Y15, Y0
	VMASKMOVPD (DX), Y15, Y1
	VADDPD     Y1, Y0, Y0
	VMASKMOVPD Y0, Y15, (R8)
	SILU_BODY
	VMASKMOVPD Y4, Y15, (DI)

arsdone:
	VZEROUPPER
	RET

// ---------------------------------------------------------------- SiLUGrad

// Y0 = x, Y12 = g → Y5 = g·s·(1 + x·(1−s)), with d = 1/(1+e), e = e^{−|x|},
// σ(|x|) = d and σ(−|x|) = e·d, so that neither s nor 1−s cancels.
#define SILUGRAD_BODY \
	VORPD       signbit<>(SB), Y0, Y5; \
	EXP(Y5, Y1, Y2, Y3, Y4); \
	VMOVUPD     one<>(SB), Y2; \
	VADDPD      Y2, Y1, Y3; \
	VDIVPD      Y3, Y2, Y2; \
	VMULPD      Y2, Y1, Y4; \
	VBLENDVPD   Y0, Y4, Y2, Y5; \
	VBLENDVPD   Y0, Y2, Y4, Y6; \
	VMOVUPD     one<>(SB), Y7; \
	VFMADD231PD Y6, Y0, Y7; \
	VMULPD      Y12, Y5, Y5; \
	VMULPD      Y7, Y5, Y5

// func siluGradAVX2(dst, gr, a *float64, n int)
TEXT ·siluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ gr+8(FP), DX
	MOVQ a+16(FP), SI
	MOVQ n+24(FP), CX
	CMPQ CX, $4
	JLT  sgtail

sgloop:
	VMOVUPD (SI), Y0
	VMOVUPD (DX), Y12
	SILUGRAD_BODY
	VMOVUPD Y5, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     sgloop

sgtail:
	TESTQ CX, CX
	JZ    sgdone
	TAILMASK
	VMASKMOVPD (SI), Y15, Y0
	VMASKMOVPD (DX), Y15, Y12
	SILUGRAD_BODY
	VMASKMOVPD Y5, Y15, (DI)

sgdone:
	VZEROUPPER
	RET

// ---------------------------------------------------------------- Tanh

// Y0 = x → Y8 = tanh x, with a = |x|, z = a²:
//
//	a ≤ 0.625: a + a·z·P(z)/Q(z)    (Cephes; no cancellation near 0)
//	a > 0.625: (1 − e)/(1 + e), e = e^{−2a} ≤ 0.287
//
// then the sign of x is copied onto the result.
#define TANH_BODY \
	VANDPD      absmask<>(SB), Y0, Y1; \
	VMULPD      mtwo<>(SB), Y1, Y5; \
	EXP(Y5, Y6, Y2, Y3, Y4); \
	VMOVUPD     one<>(SB), Y7; \
	VSUBPD      Y6, Y7, Y8; \
	VADDPD      Y6, Y7, Y9; \
	VMULPD      Y1, Y1, Y2; \
	VMOVUPD     tanhP0<>(SB), Y3; \
	VFMADD213PD tanhP1<>(SB), Y2, Y3; \
	VFMADD213PD tanhP2<>(SB), Y2, Y3; \
	VMULPD      Y2, Y1, Y4; \
	VMULPD      Y4, Y3, Y3; \
	VADDPD      tanhQ0<>(SB), Y2, Y4; \
	VFMADD213PD tanhQ1<>(SB), Y2, Y4; \
	VFMADD213PD tanhQ2<>(SB), Y2, Y4; \
	VCMPPD      $2, tanhCut<>(SB), Y1, Y10; \
	VBLENDVPD   Y10, Y3, Y8, Y8; \
	VBLENDVPD   Y10, Y4, Y9, Y9; \
	VDIVPD      Y9, Y8, Y8; \
	VADDPD      Y8, Y1, Y2; \
	VBLENDVPD   Y10, Y2, Y8, Y8; \
	VANDPD      signbit<>(SB), Y0, Y0; \
	VORPD       Y0, Y8, Y8

// func tanhAVX2(dst, a *float64, n int)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $4
	JLT  tanhtail

tanhloop:
	VMOVUPD (SI), Y0
	TANH_BODY
	VMOVUPD Y8, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     tanhloop

tanhtail:
	TESTQ CX, CX
	JZ    tanhdone
	TAILMASK
	VMASKMOVPD (SI), Y15, Y0
	TANH_BODY
	VMASKMOVPD Y8, Y15, (DI)

tanhdone:
	VZEROUPPER
	RET

// ---------------------------------------------------------------- TanhGrad

// Y0 = y, Y12 = g → Y1 = g·(1 − y·y), rounded exactly as the reference loop.
#define TANHGRAD_BODY \
	VMULPD  Y0, Y0, Y0; \
	VMOVUPD one<>(SB), Y1; \
	VSUBPD  Y0, Y1, Y1; \
	VMULPD  Y12, Y1, Y1

// func tanhGradAVX2(dst, gr, y *float64, n int)
TEXT ·tanhGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ gr+8(FP), DX
	MOVQ y+16(FP), SI
	MOVQ n+24(FP), CX
	CMPQ CX, $4
	JLT  tgtail

tgloop:
	VMOVUPD (SI), Y0
	VMOVUPD (DX), Y12
	TANHGRAD_BODY
	VMOVUPD Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $4, CX
	CMPQ    CX, $4
	JGE     tgloop

tgtail:
	TESTQ CX, CX
	JZ    tgdone
	TAILMASK
	VMASKMOVPD (SI), Y15, Y0
	VMASKMOVPD (DX), Y15, Y12
	TANHGRAD_BODY
	VMASKMOVPD Y1, Y15, (DI)

tgdone:
	VZEROUPPER
	RET

// ================================================================ AVX-512

// The kernels above with 8 lanes, for CPUs with AVX-512F.
// The exponential is the same computation as EXP there, except that the
// final scaling p·2^k is one VSCALEFPD, which rounds once as the two
// products there do; results are bit-identical to the AVX2 kernels
// (TestActivations_AVX512MatchesAVX2). The constants are those of
// above, read as broadcast scalars.

// Registers loaded once per call: Z31 = 710, Z30 = −750, Z29 = 1, Z28 = 0.
#define LOADCONSTS \
	VBROADCASTSD expHi<>(SB), Z31; \
	VBROADCASTSD expLo<>(SB), Z30; \
	VBROADCASTSD one<>(SB), Z29; \
	VPXORQ       Z28, Z28, Z28

// EXP8 sets R = e^X lane by lane; it clobbers X, T1, T2.
#define EXP8(X, R, T1, T2) \
	VMINPD            X, Z31, X; \
	VMAXPD            X, Z30, X; \
	VMULPD.BCST       log2e<>(SB), X, T1; \
	VRNDSCALEPD       $0, T1, T1; \
	VMOVAPD           X, R; \
	VFNMADD231PD.BCST ln2hi<>(SB), T1, R; \
	VFNMADD231PD.BCST ln2lo<>(SB), T1, R; \
	VBROADCASTSD      c11<>(SB), T2; \
	VFMADD213PD.BCST  c10<>(SB), R, T2; \
	VFMADD213PD.BCST  c9<>(SB), R, T2; \
	VFMADD213PD.BCST  c8<>(SB), R, T2; \
	VFMADD213PD.BCST  c7<>(SB), R, T2; \
	VFMADD213PD.BCST  c6<>(SB), R, T2; \
	VFMADD213PD.BCST  c5<>(SB), R, T2; \
	VFMADD213PD.BCST  c4<>(SB), R, T2; \
	VFMADD213PD.BCST  c3<>(SB), R, T2; \
	VFMADD213PD.BCST  c2<>(SB), R, T2; \
	VFMADD213PD       Z29, R, T2; \
	VFMADD213PD       Z29, R, T2; \
	VSCALEFPD         T1, T2, R

// TAILMASK8 sets K1 to the mask of the first CX (1…7) lanes.
#define TAILMASK8 \
	MOVQ  $1, AX; \
	SHLQ  CX, AX; \
	DECQ  AX; \
	KMOVW AX, K1

// NEGABS sets Z5 = −|Z0| and K2 = (Z0 < 0).
#define NEGABS \
	VPORQ.BCST signbit<>(SB), Z0, Z5; \
	VCMPPD     $1, Z28, Z0, K2

// Z0 = x → Z1 = e^x.
#define EXP8_BODY \
	EXP8(Z0, Z1, Z2, Z3)

// Z0 = x → Z4 = σ(x).
#define SIGMOID8_BODY \
	NEGABS; \
	EXP8(Z5, Z1, Z2, Z3); \
	VADDPD    Z29, Z1, Z3; \
	VBLENDMPD Z1, Z29, K2, Z4; \
	VDIVPD    Z3, Z4, Z4

// Z0 = x → Z4 = x·σ(x).
#define SILU8_BODY \
	NEGABS; \
	EXP8(Z5, Z1, Z2, Z3); \
	VADDPD    Z29, Z1, Z3; \
	VMULPD    Z1, Z0, Z2; \
	VBLENDMPD Z2, Z0, K2, Z4; \
	VDIVPD    Z3, Z4, Z4

// Z0 = x, Z12 = g → Z5 = g·s·(1 + x·(1−s)).
#define SILUGRAD8_BODY \
	NEGABS; \
	EXP8(Z5, Z1, Z2, Z3); \
	VADDPD      Z29, Z1, Z3; \
	VDIVPD      Z3, Z29, Z2; \
	VMULPD      Z2, Z1, Z4; \
	VBLENDMPD   Z4, Z2, K2, Z5; \
	VBLENDMPD   Z2, Z4, K2, Z6; \
	VMOVAPD     Z29, Z7; \
	VFMADD231PD Z6, Z0, Z7; \
	VMULPD      Z12, Z5, Z5; \
	VMULPD      Z7, Z5, Z5

// UNARY8(name, BODY, out) defines func name(dst, a *float64, n int).
#define UNARY8(name, BODY, out) \
TEXT name(SB), NOSPLIT, $0-24; \
	MOVQ dst+0(FP), DI; \
	MOVQ a+8(FP), SI; \
	MOVQ n+16(FP), CX; \
	LOADCONSTS; \
	CMPQ CX, $8; \
	JLT  tail; \
loop:; \
	VMOVUPD (SI), Z0; \
	BODY; \
	VMOVUPD out, (DI); \
	ADDQ    $64, SI; \
	ADDQ    $64, DI; \
	SUBQ    $8, CX; \
	CMPQ    CX, $8; \
	JGE     loop; \
tail:; \
	TESTQ CX, CX; \
	JZ    done; \
	TAILMASK8; \
	VMOVUPD.Z (SI), K1, Z0; \
	BODY; \
	VMOVUPD out, K1, (DI); \
done:; \
	VZEROUPPER; \
	RET

// func expAVX512(dst, a *float64, n int)
UNARY8(·expAVX512, EXP8_BODY, Z1)

// func sigmoidAVX512(dst, a *float64, n int)
UNARY8(·sigmoidAVX512, SIGMOID8_BODY, Z4)

// func siluAVX512(dst, a *float64, n int)
UNARY8(·siluAVX512, SILU8_BODY, Z4)

// func siluGradAVX512(dst, gr, a *float64, n int)
TEXT ·siluGradAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ gr+8(FP), DX
	MOVQ a+16(FP), SI
	MOVQ n+24(FP), CX
	LOADCONSTS
	CMPQ CX, $8
	JLT  tail

loop:
	VMOVUPD (SI), Z0
	VMOVUPD (DX), Z12
	SILUGRAD8_BODY
	VMOVUPD Z5, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     loop

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK8
	VMOVUPD.Z (SI), K1, Z0
	VMOVUPD.Z (DX), K1, Z12
	SILUGRAD8_BODY
	VMOVUPD Z5, K1, (DI)

done:
	VZEROUPPER
	RET

// func addRowSiLUAVX512(pre, out, a, row *float64, n int)
TEXT ·addRowSiLUAVX512(SB), NOSPLIT, $0-40
	MOVQ pre+0(FP), R8
	MOVQ out+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ row+24(FP), DX
	MOVQ n+32(FP), CX
	LOADCONSTS
	CMPQ CX, $8
	JLT  tail

loop:
	VMOVUPD (SI), Z0
	VADDPD  (DX), Z0, Z0
	VMOVUPD Z0, (R8)
	SILU8_BODY
	VMOVUPD Z4, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, R8
	ADDQ    $64, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JGE     loop

tail:
	TESTQ CX, CX
	JZ    done
	TAILMASK8
	VMOVUPD.Z (SI), K1, Z0
	VMOVUPD.Z (DX), K1, Z1
	VADDPD    Z1, Z0, Z0
	VMOVUPD   Z0, K1, (R8)
	SILU8_BODY
	VMOVUPD Z4, K1, (DI)

done:
	VZEROUPPER
	RET
