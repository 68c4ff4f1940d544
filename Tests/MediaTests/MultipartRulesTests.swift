import Foundation
import MediaVaultCore
import Testing

@testable import Media

@Suite struct MultipartRulesTests {
    @Test func defaultPartSizeIs16MiBUntilTheTenThousandPartLimit() throws {
        #expect(try MultipartRules.partSize(for: 1 << 30, requested: nil) == 16 << 20)
        // 160 GiB at 16 MiB would be 10,240 parts: the size doubles.
        #expect(try MultipartRules.partSize(for: 160 << 30, requested: nil) == 32 << 20)
        let huge: Int64 = 5 << 40
        let size = try MultipartRules.partSize(for: huge, requested: nil)
        #expect((huge + size - 1) / size <= Int64(MultipartRules.maximumParts))
    }

    @Test func requestedSizesAreValidated() throws {
        #expect(try MultipartRules.partSize(for: 100 << 20, requested: 5 << 20) == 5 << 20)
        #expect(throws: AppError.self) { try MultipartRules.partSize(for: 100 << 20, requested: (5 << 20) - 1) }
        #expect(throws: AppError.self) { try MultipartRules.partSize(for: 100 << 20, requested: (5 << 30) + 1) }
        // 100 GiB in 5 MiB parts is 20,480 parts.
        #expect(throws: AppError.self) { try MultipartRules.partSize(for: 100 << 30, requested: 5 << 20) }
    }

    @Test func processingOutputsLiveBesideTheMediaID() {
        let id = UUID(uuidString: "7C9E6679-7425-40DE-944B-E07FC1F90AE7")!
        let outputs = MediaObjectKeys.processingOutputs(mediaID: id)
        #expect(outputs.processed == "processed/7c9e6679-7425-40de-944b-e07fc1f90ae7.mp4")
        #expect(outputs.compatibility == "processed/7c9e6679-7425-40de-944b-e07fc1f90ae7.h264.mp4")
        #expect(outputs.thumbnail == "thumbnails/7c9e6679-7425-40de-944b-e07fc1f90ae7.jpg")
        #expect(outputs.preview == "previews/7c9e6679-7425-40de-944b-e07fc1f90ae7.jpg")
    }
}
