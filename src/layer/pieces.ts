import { Transform, type TransformCallback } from 'node:stream';

/**
 * The shape every cogts layer compressor shares: the stream is cut into fixed `pieceSize` pieces,
 * each compressed on its own (a gzip member, a zstd frame) off the main thread, at most `parallel`
 * at once, and the results are pushed in input order. Piece boundaries depend only on byte
 * offsets, so the output is a function of the input bytes and the settings, never of how the input
 * arrived in chunks or which thread did the work. An empty input still yields one (empty) piece:
 * both formats want at least one member/frame to be a valid stream.
 *
 * Memory: at most `parallel` pieces (plus their outputs) and the one being filled.
 */
export abstract class PieceCompressor extends Transform {
  /** The piece being filled; a fresh, unpooled buffer, so a subclass may transfer its ArrayBuffer. */
  private piece: Buffer | undefined;
  private filled = 0;
  private queue: Promise<Buffer>[] = [];
  private pieces = 0;

  constructor(
    private readonly pieceSize: number,
    private readonly parallel: number,
  ) {
    super();
    if (!(pieceSize > 0) || !(parallel > 0))
      throw new RangeError(`piece size ${pieceSize} and parallelism ${parallel} must be positive`);
  }

  /**
   * Compresses one piece. `piece` is the only view of its own ArrayBuffer (allocated for it and
   * never read again by this class), so an implementation may transfer that buffer to a worker.
   */
  protected abstract compressPiece(piece: Buffer): Promise<Buffer>;

  private dispatch(piece: Buffer): void {
    const p = this.compressPiece(piece);
    p.catch(() => {}); // observed when drained, in order
    this.queue.push(p);
    this.pieces++;
  }

  private async drain(keep: number): Promise<void> {
    while (this.queue.length > keep) this.push(await this.queue.shift()!);
  }

  private async accept(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      // allocUnsafeSlow: an own ArrayBuffer (not Node's shared pool), fully overwritten below.
      this.piece ??= Buffer.allocUnsafeSlow(this.pieceSize);
      const n = chunk.copy(this.piece, this.filled, off, off + this.pieceSize - this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.pieceSize) {
        this.dispatch(this.piece);
        this.piece = undefined;
        this.filled = 0;
        // Backpressure inside one big chunk too: never more than `parallel` pieces in flight.
        await this.drain(this.parallel - 1);
      }
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.accept(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.filled > 0 || this.pieces === 0) {
      this.dispatch((this.piece ?? Buffer.allocUnsafeSlow(0)).subarray(0, this.filled));
    }
    this.piece = undefined;
    this.drain(0).then(() => cb(), cb);
  }
}
