import Foundation

/// The S3 XML documents this library reads and writes. Pure functions, no I/O.
enum S3Documents {
    // MARK: Reading

    /// `<InitiateMultipartUploadResult><UploadId>…` → the upload id.
    static func uploadID(
        fromInitiateResult body: some Collection<UInt8>
    ) throws(ObjectStorageError) -> MultipartUploadID {
        let root = try XMLElementTree.parse(body)
        guard root.name == "InitiateMultipartUploadResult", let uploadID = root.value(of: "UploadId"), !uploadID.isEmpty
        else {
            throw ObjectStorageError(.malformedResponse, "InitiateMultipartUploadResult without UploadId")
        }
        return MultipartUploadID(uploadID)
    }

    /// One page of `ListPartsResult`.
    struct PartsPage: Sendable, Hashable {
        var parts: [UploadedPart]
        /// `LastModified` of each part in ``parts`` (same order), to pick the newest copy of a re-sent part.
        var lastModified: [Date?]
        var isTruncated: Bool
        var nextPartNumberMarker: Int?
    }

    static func partsPage(fromListPartsResult body: some Collection<UInt8>) throws(ObjectStorageError) -> PartsPage {
        let root = try XMLElementTree.parse(body)
        guard root.name == "ListPartsResult" else {
            throw ObjectStorageError(.malformedResponse, "expected ListPartsResult, got \(root.name)")
        }
        var parts: [UploadedPart] = []
        var lastModified: [Date?] = []
        for element in root.children("Part") {
            guard let number = element.value(of: "PartNumber").flatMap({ Int($0) }),
                let etag = element.value(of: "ETag"),
                let size = element.value(of: "Size").flatMap({ Int64($0) })
            else {
                throw ObjectStorageError(.malformedResponse, "ListPartsResult has an incomplete Part")
            }
            parts.append(UploadedPart(partNumber: number, etag: etag.withoutETagQuotes, size: size))
            lastModified.append(element.value(of: "LastModified").flatMap(HTTPDate.parseISO8601))
        }
        return PartsPage(
            parts: parts,
            lastModified: lastModified,
            isTruncated: root.value(of: "IsTruncated")?.lowercased() == "true",
            nextPartNumberMarker: root.value(of: "NextPartNumberMarker").flatMap { Int($0) }
        )
    }

    /// The result of CompleteMultipartUpload. S3 answers 200 even when completing failed and then sends an
    /// `<Error>` document instead of the result, so that case becomes an ``S3Error`` here.
    static func etag(
        fromCompleteResult body: some Collection<UInt8>, requestID: String?
    ) throws -> String? {
        let root = try XMLElementTree.parse(body)
        if let error = S3Error.fromDocument(root, httpStatus: 200, requestID: requestID) {
            throw error
        }
        guard root.name == "CompleteMultipartUploadResult" else {
            throw ObjectStorageError(.malformedResponse, "expected CompleteMultipartUploadResult, got \(root.name)")
        }
        return root.value(of: "ETag")?.withoutETagQuotes
    }

    // MARK: Writing

    /// The CompleteMultipartUpload request body; ETags are sent quoted, as S3 lists them.
    static func completeMultipartUpload(parts: [CompletedPart]) -> String {
        var xml = "<CompleteMultipartUpload xmlns=\"\(XMLWriter.s3Namespace)\">"
        for part in parts {
            xml += "<Part>"
            xml += XMLWriter.element("ETag", "\"\(part.etag.withoutETagQuotes)\"")
            xml += XMLWriter.element("PartNumber", String(part.partNumber))
            xml += "</Part>"
        }
        return xml + "</CompleteMultipartUpload>"
    }

    /// PutBucketCors body: one rule letting `allowedOrigins` PUT, GET and HEAD with any header, exposing ETag
    /// (browsers need to read it to complete multipart uploads).
    static func corsConfiguration(allowedOrigins: [String], maxAgeSeconds: Int = 3600) -> String {
        var xml = "<CORSConfiguration xmlns=\"\(XMLWriter.s3Namespace)\"><CORSRule>"
        for origin in allowedOrigins {
            xml += XMLWriter.element("AllowedOrigin", origin)
        }
        for method in ["PUT", "GET", "HEAD"] {
            xml += XMLWriter.element("AllowedMethod", method)
        }
        xml += XMLWriter.element("AllowedHeader", "*")
        xml += XMLWriter.element("ExposeHeader", "ETag")
        xml += XMLWriter.element("MaxAgeSeconds", String(maxAgeSeconds))
        return xml + "</CORSRule></CORSConfiguration>"
    }

    /// CreateBucket body; us-east-1 wants none, every other region its name as location constraint.
    static func createBucketConfiguration(region: String) -> String? {
        guard region != "us-east-1" else { return nil }
        return "<CreateBucketConfiguration xmlns=\"\(XMLWriter.s3Namespace)\">"
            + XMLWriter.element("LocationConstraint", region) + "</CreateBucketConfiguration>"
    }
}
