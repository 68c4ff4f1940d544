import Foundation
import MediaVaultCore
import Testing

@testable import Processing

@Suite struct JobMessageTests {
    static let message = JobMessage(
        jobID: UUID(uuidString: "0F8FAD5B-D9CB-469F-A165-70867728950E")!,
        mediaID: UUID(uuidString: "7C9E6679-7425-40DE-944B-E07FC1F90AE7")!,
        objectKey: "original/u/7c9e6679-7425-40de-944b-e07fc1f90ae7/clip.mp4",
        outputs: ProcessingOutputKeys(
            processed: "processed/7c9e6679-7425-40de-944b-e07fc1f90ae7.mp4",
            compatibility: "processed/7c9e6679-7425-40de-944b-e07fc1f90ae7.h264.mp4",
            thumbnail: "thumbnails/7c9e6679-7425-40de-944b-e07fc1f90ae7.jpg",
            preview: "previews/7c9e6679-7425-40de-944b-e07fc1f90ae7.jpg"))

    /// The exact bytes on the wire: consumers written against them (and messages already queued) must keep working.
    @Test func encodesToStableBytes() {
        let expected =
            #"{"job_id":"0f8fad5b-d9cb-469f-a165-70867728950e","media_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","#
            + #""object_key":"original/u/7c9e6679-7425-40de-944b-e07fc1f90ae7/clip.mp4","#
            + #""outputs":{"compatibility":"processed/7c9e6679-7425-40de-944b-e07fc1f90ae7.h264.mp4","#
            + #""preview":"previews/7c9e6679-7425-40de-944b-e07fc1f90ae7.jpg","#
            + #""processed":"processed/7c9e6679-7425-40de-944b-e07fc1f90ae7.mp4","#
            + #""thumbnail":"thumbnails/7c9e6679-7425-40de-944b-e07fc1f90ae7.jpg"}}"#
        #expect(String(decoding: Self.message.encoded(), as: UTF8.self) == expected)
    }

    @Test func roundTrips() throws {
        let decoded = try JSONDecoder().decode(JobMessage.self, from: Data(Self.message.encoded()))
        #expect(decoded == Self.message)
    }

    @Test func consumersNeedOnlyTheJobID() {
        #expect(JobMessage.jobID(in: Self.message.encoded()) == Self.message.jobID)
        // The form written before the message carried object keys.
        let old = #"{"job_id":"0f8fad5b-d9cb-469f-a165-70867728950e","media_id":"7c9e6679-7425-40de-944b-e07fc1f90ae7"}"#
        #expect(JobMessage.jobID(in: Array(old.utf8)) == Self.message.jobID)
        #expect(JobMessage.jobID(in: Array(#"{"media_id":"x"}"#.utf8)) == nil)
        #expect(JobMessage.jobID(in: Array("not json".utf8)) == nil)
    }

    @Test func jobStatesMapOntoTheAPIVocabulary() {
        #expect(JobStatus.completed.mediaStatus == .ready)
        #expect(JobStatus.queued.mediaStatus == .queued)
        #expect(JobStatus.processing.mediaStatus == .processing)
        #expect(JobStatus.failed.mediaStatus == .failed)
    }
}
