// Node's crypto and files by default, files.web.ts (which refuses clearly) under "browser".
export * from '#mixnmatch-files';
