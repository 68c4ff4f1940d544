import Crypto
import Foundation
import MediaVaultCore
import NIOPosix

/// One file found on disk, and what the server is told about it.
public struct LocalFile: Sendable, Equatable {
    public let url: URL
    /// As the user will see it: relative to the folder it was found under.
    public let displayPath: String
    public let size: Int64
    public let mimeType: String
}

/// MIME types a run keeps, as `--mime` gives them: exact types (`video/mp4`) and whole families (`image/*`).
public struct MimeFilter: Sendable, Equatable {
    private let exact: Set<String>
    private let families: Set<String>

    /// Parses comma-separated patterns; each must be `type/subtype` or `type/*`, any case.
    public init(_ patterns: String) throws {
        var exact = Set<String>()
        var families = Set<String>()
        for raw in patterns.split(separator: ",") {
            let pattern = raw.trimmingCharacters(in: .whitespaces).lowercased()
            let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
            let token = { (part: Substring) in
                !part.isEmpty && part.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
            }
            guard parts.count == 2, token(parts[0]), parts[1] == "*" || token(parts[1]) else {
                throw UploadError(
                    message: "--mime: \(String(reflecting: pattern)) is not a type/subtype or type/* pattern",
                    isTransient: false, code: nil)
            }
            if parts[1] == "*" { families.insert(String(parts[0])) } else { exact.insert(pattern) }
        }
        guard !exact.isEmpty || !families.isEmpty else {
            throw UploadError(message: "--mime needs at least one pattern", isTransient: false, code: nil)
        }
        self.exact = exact
        self.families = families
    }

    public func accepts(_ mimeType: String) -> Bool {
        exact.contains(mimeType) || families.contains(String(mimeType.prefix { $0 != "/" }))
    }
}

/// Which files a run takes: walks folders in name order (so a collection gets them in that order), skips hidden
/// files and folders, and keeps the media types the server stores.
public enum FileScan {
    /// Extensions of photos and videos, with the MIME type the server is told.
    public static let mediaTypes: [String: String] = [
        "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
        "heic": "image/heic", "heif": "image/heif", "avif": "image/avif", "tif": "image/tiff", "tiff": "image/tiff",
        "mp4": "video/mp4", "m4v": "video/x-m4v", "mov": "video/quicktime", "mkv": "video/x-matroska",
        "webm": "video/webm", "avi": "video/x-msvideo", "3gp": "video/3gpp", "mts": "video/mp2t",
    ]

    /// Files under `paths` (files are taken as they are), filtered to `extensions` and `mimeTypes` when given.
    public static func files(
        in paths: [String], extensions: Set<String>? = nil, mimeTypes: MimeFilter? = nil
    ) throws -> [LocalFile] {
        var found: [LocalFile] = []
        var seen = Set<String>()
        let manager = FileManager.default
        for path in paths {
            let root = URL(fileURLWithPath: path).standardizedFileURL
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: root.path, isDirectory: &isDirectory) else {
                throw UploadError(message: "\(path): no such file or folder", isTransient: false, code: nil)
            }
            let candidates: [(URL, String)]
            if isDirectory.boolValue {
                let enumerator = manager.enumerator(
                    at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
                var inFolder: [(URL, String)] = []
                while let url = enumerator?.nextObject() as? URL {
                    guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
                    let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
                    inFolder.append((url.standardizedFileURL, relative))
                }
                candidates = inFolder.sorted { $0.1.localizedStandardCompare($1.1) == .orderedAscending }
            } else {
                candidates = [(root, root.lastPathComponent)]
            }
            for (url, display) in candidates where seen.insert(url.path).inserted {
                let ext = url.pathExtension.lowercased()
                if let extensions, !extensions.contains(ext) { continue }
                guard let mimeType = mediaTypes[ext], mimeTypes?.accepts(mimeType) ?? true else { continue }
                let size = (try? manager.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
                guard size > 0 else { continue }
                found.append(LocalFile(url: url, displayPath: display, size: size, mimeType: mimeType))
            }
        }
        return found
    }

    /// The file's SHA-256 in lowercase hex, read in 4 MiB chunks off the cooperative pool.
    public static func sha256(of url: URL, read: @escaping @Sendable (Int64) -> Void = { _ in }) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
                hasher.update(data: chunk)
                read(Int64(chunk.count))
            }
            return Hex.encode(hasher.finalize())
        }
    }
}
