/** TensorProto.DataType values we use (apart from the protobuf schema, so model graphs need no protobufjs). */
export const DataType = { FLOAT: 1, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
