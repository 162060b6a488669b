// Public API of @deepspark/data: MNIST/IDX, Caffe record databases (LMDB 0.9 format, LevelDB),
// converters, DataTransformer, datasets and partitions, the engine's batch source.

export { DatumDbError, IdxFormatError, ImageError, PartitionError, RecordError, TransformError } from "./errors.js"
export { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, readIdxImages, readIdxLabels, readIdxPair } from "./idx.js"
export type { IdxImages, IdxLabels } from "./idx.js"
export { mnistPackageFiles } from "./mnist-files.js"
export type { MnistFiles } from "./mnist-files.js"
export { SeededRng, shuffleInPlace } from "./rng.js"
export type { Rng } from "./rng.js"
export { decodeDatum, decodeRecord, encodeDatum, formatInt } from "./datum.js"
export type { Datum } from "./datum.js"

// Databases
export { DEFAULT_BACKEND, keyBytes, keyText, parseBackend } from "./db/datum-db.js"
export type { Backend, DatumDb, DatumDbWriter, DbCursor, DbRecord } from "./db/datum-db.js"
export { createDatumDb, openDatumDb } from "./db/open.js"
export { lmdbDataFile, openLmdb } from "./db/lmdb-reader.js"
export { createLmdb } from "./db/lmdb-writer.js"
export type { LmdbWriter, LmdbWriterOptions } from "./db/lmdb-writer.js"
export { createLevelDb, openLevelDb } from "./db/leveldb.js"

// Converters
export { convertMnist } from "./convert/mnist.js"
export type { ConvertResult } from "./convert/mnist.js"
export { CIFAR_RECORD_SIZE, convertCifar, convertCifarBatches } from "./convert/cifar.js"
export { convertImageset } from "./convert/imageset.js"
export type { ImagesetOptions, ImagesetResult } from "./convert/imageset.js"
export { computeMean, computeMeanFile, meanBlobProto } from "./convert/compute-mean.js"
export type { MeanImage } from "./convert/compute-mean.js"

// Images (ImageData layer readers)
export { parseImageList, readImageList } from "./image/image-list.js"
export type { ImageListEntry } from "./image/image-list.js"
export { decodeImage, encodeImage, readImageFile } from "./image/decode-image.js"
export type { ChwImage, ColorMode, DecodeOptions } from "./image/decode-image.js"
export { createSyncImageDecoder, readImageFileSync } from "./image/sync-decoder.js"
export type { SyncImageDecoder } from "./image/sync-decoder.js"

// HDF5Data layer readers
export { openHdf5Reader, readHdf5SourceList } from "./hdf5/hdf5-reader.js"
export type { Hdf5Blob, Hdf5Reader } from "./hdf5/hdf5-reader.js"

// Transform
export { DataTransformer } from "./transform/data-transformer.js"
export type { Phase, RawImage, RecordOrigin, TransformerOptions } from "./transform/data-transformer.js"
export { readMeanFile } from "./transform/mean-file.js"
export type { MeanBlob } from "./transform/mean-file.js"

// Datasets and partitions
export { Dataset, hashKey } from "./dataset/dataset.js"
export type { PartitionMode, RecordSource } from "./dataset/dataset.js"
export { epochOrder, recordReader } from "./dataset/cursor.js"
export type { CursorState, ReaderOptions, RecordReader } from "./dataset/cursor.js"
export { batchStream } from "./dataset/batches.js"
export type { Batch, BatchOptions } from "./dataset/batches.js"
export { databaseSource, datumSource, memorySource, mnistSource, openDatumSource } from "./dataset/sources.js"
export { partitionManifest, verifyPartition } from "./dataset/verify.js"
export type { PartitionManifest } from "./dataset/verify.js"
export { localStager, writePartitionLmdb } from "./dataset/stage.js"
export type { PartitionStager, StagedPartition } from "./dataset/stage.js"
export { recordsChecksum } from "./dataset/stage-remote-format.js"
export { describeRef, partitionServer, StagingSourceError } from "./dataset/stage-remote-server.js"
export type { PartitionServer, PartitionServerOptions, RemoteManifest, StagingChunk, StagingRef } from "./dataset/stage-remote-server.js"
export { remoteStager, STAGED_MARKER, stageRemotePartition, stagingRefFromName } from "./dataset/stage-remote.js"
export type { RemoteStaged, RemoteStageOptions, StagingFetcher } from "./dataset/stage-remote.js"

// Engine input
export { datasetBatchSource, openBatchSource } from "./batch-source.js"
export type { BatchSource, BatchSourceOptions, DatasetBatchSourceOptions, LabelRule } from "./batch-source.js"

// HDF5Output writer and a worker's partition as the Data layer's input (data-layers helper)
export { openHdf5Writer } from "./hdf5/hdf5-writer.js"
export type { Hdf5Writer } from "./hdf5/hdf5-writer.js"
export { openPartitionBatchSource, partitionSourceManifest, verifyPartitionSource } from "./partition-source.js"
export type { PartitionBatchSource, PartitionBatchSourceOptions, PartitionCursor, PartitionSpec } from "./partition-source.js"
