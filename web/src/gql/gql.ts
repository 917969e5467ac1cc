/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query NotificationCount {\n    unreadNotificationCount\n  }\n": typeof types.NotificationCountDocument,
    "\n  query Notifications($first: Int) {\n    notifications(first: $first) {\n      edges {\n        node {\n          id\n          kind\n          createdAt\n          read\n          message {\n            id\n            body\n            author {\n              id\n              displayName\n            }\n            channel {\n              id\n              name\n              kind\n            }\n          }\n        }\n      }\n    }\n  }\n": typeof types.NotificationsDocument,
    "\n  subscription NewNotifications {\n    notifications {\n      id\n      kind\n    }\n  }\n": typeof types.NewNotificationsDocument,
    "\n  mutation MarkNotificationsRead {\n    markNotificationsRead\n  }\n": typeof types.MarkNotificationsReadDocument,
    "\n  fragment ReactionFields on Message {\n    reactions {\n      emoji\n      count\n      reactedByMe\n    }\n  }\n": typeof types.ReactionFieldsFragmentDoc,
    "\n  mutation AddReaction($messageId: ID!, $emoji: String!) {\n    addReaction(messageId: $messageId, emoji: $emoji) {\n      id\n      ...ReactionFields\n    }\n  }\n": typeof types.AddReactionDocument,
    "\n  mutation RemoveReaction($messageId: ID!, $emoji: String!) {\n    removeReaction(messageId: $messageId, emoji: $emoji) {\n      id\n      ...ReactionFields\n    }\n  }\n": typeof types.RemoveReactionDocument,
    "\n  fragment ThreadSummaryFields on Message {\n    threadRootId\n    thread {\n      replyCount\n      lastReplyAt\n      unreadCount\n      participants {\n        id\n        displayName\n      }\n    }\n  }\n": typeof types.ThreadSummaryFieldsFragmentDoc,
    "\n  query ThreadReplies($messageId: ID!, $last: Int, $before: String) {\n    threadReplies(messageId: $messageId, last: $last, before: $before) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n    }\n  }\n": typeof types.ThreadRepliesDocument,
    "\n  mutation MarkThreadRead($messageId: ID!) {\n    markThreadRead(messageId: $messageId) {\n      id\n      thread {\n        unreadCount\n      }\n    }\n  }\n": typeof types.MarkThreadReadDocument,
    "\n  fragment UserFields on User {\n    id\n    username\n    displayName\n    online\n  }\n": typeof types.UserFieldsFragmentDoc,
    "\n  fragment MessageFields on Message {\n    id\n    body\n    createdAt\n    editedAt\n    deleted\n    score\n    upvotes\n    downvotes\n    myVote\n    mentionsMe\n    author {\n      id\n      username\n      displayName\n    }\n    ...ReactionFields\n    ...ThreadSummaryFields\n  }\n": typeof types.MessageFieldsFragmentDoc,
    "\n  fragment ChannelListFields on Channel {\n    id\n    name\n    kind\n    unreadCount\n    peer {\n      ...UserFields\n    }\n  }\n": typeof types.ChannelListFieldsFragmentDoc,
    "\n  mutation Signup($input: SignupInput!) {\n    signup(input: $input) {\n      token\n    }\n  }\n": typeof types.SignupDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      token\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Logout {\n    logout\n  }\n": typeof types.LogoutDocument,
    "\n  query Me {\n    me {\n      ...UserFields\n      email\n      bio\n      createdAt\n    }\n  }\n": typeof types.MeDocument,
    "\n  query MyChannels {\n    myChannels {\n      ...ChannelListFields\n    }\n  }\n": typeof types.MyChannelsDocument,
    "\n  query Directory($search: String, $first: Int, $after: String) {\n    channels(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n          description\n          memberCount\n          isMember\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.DirectoryDocument,
    "\n  mutation JoinChannel($channelId: ID!) {\n    joinChannel(channelId: $channelId) {\n      id\n      isMember\n      memberCount\n    }\n  }\n": typeof types.JoinChannelDocument,
    "\n  mutation CreateChannel($input: CreateChannelInput!) {\n    createChannel(input: $input) {\n      id\n    }\n  }\n": typeof types.CreateChannelDocument,
    "\n  query Users($search: String, $first: Int, $after: String) {\n    users(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...UserFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.UsersDocument,
    "\n  query UserProfile($username: String!) {\n    user(username: $username) {\n      ...UserFields\n      bio\n      createdAt\n    }\n  }\n": typeof types.UserProfileDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) {\n      id\n      displayName\n      bio\n    }\n  }\n": typeof types.UpdateProfileDocument,
    "\n  mutation OpenDirectChannel($userId: ID!) {\n    openDirectChannel(userId: $userId) {\n      ...ChannelListFields\n    }\n  }\n": typeof types.OpenDirectChannelDocument,
    "\n  query ChannelHeader($id: ID!) {\n    channel(id: $id) {\n      id\n      name\n      kind\n      description\n      memberCount\n      isMember\n      peer {\n        ...UserFields\n      }\n    }\n  }\n": typeof types.ChannelHeaderDocument,
    "\n  query ChannelMessages($channelId: ID!, $last: Int, $before: String) {\n    messages(channelId: $channelId, last: $last, before: $before) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n    }\n  }\n": typeof types.ChannelMessagesDocument,
    "\n  subscription ChannelEvents($channelId: ID!, $after: String) {\n    channelEvents(channelId: $channelId, after: $after) {\n      __typename\n      ... on MessageAdded {\n        cursor\n        message {\n          ...MessageFields\n        }\n      }\n      ... on MessageUpdated {\n        message {\n          ...MessageFields\n        }\n      }\n      ... on MessageDeleted {\n        message {\n          ...MessageFields\n        }\n      }\n      ... on UserTyping {\n        user {\n          id\n          displayName\n        }\n      }\n      ... on MemberJoined {\n        user {\n          ...UserFields\n        }\n      }\n      ... on MemberLeft {\n        user {\n          id\n        }\n      }\n      ... on ChannelUpdated {\n        channel {\n          id\n          name\n          description\n        }\n      }\n      ... on ChannelDeleted {\n        channelId\n      }\n    }\n  }\n": typeof types.ChannelEventsDocument,
    "\n  subscription Inbox {\n    inbox {\n      cursor\n      message {\n        id\n        channel {\n          id\n          unreadCount\n        }\n      }\n    }\n  }\n": typeof types.InboxDocument,
    "\n  mutation SendMessage($input: SendMessageInput!) {\n    sendMessage(input: $input) {\n      ...MessageFields\n    }\n  }\n": typeof types.SendMessageDocument,
    "\n  mutation Vote($messageId: ID!, $value: VoteValue!) {\n    vote(messageId: $messageId, value: $value) {\n      id\n      score\n      upvotes\n      downvotes\n      myVote\n    }\n  }\n": typeof types.VoteDocument,
    "\n  mutation MarkRead($channelId: ID!) {\n    markRead(channelId: $channelId) {\n      id\n      unreadCount\n    }\n  }\n": typeof types.MarkReadDocument,
    "\n  mutation SetTyping($channelId: ID!) {\n    setTyping(channelId: $channelId)\n  }\n": typeof types.SetTypingDocument,
};
const documents: Documents = {
    "\n  query NotificationCount {\n    unreadNotificationCount\n  }\n": types.NotificationCountDocument,
    "\n  query Notifications($first: Int) {\n    notifications(first: $first) {\n      edges {\n        node {\n          id\n          kind\n          createdAt\n          read\n          message {\n            id\n            body\n            author {\n              id\n              displayName\n            }\n            channel {\n              id\n              name\n              kind\n            }\n          }\n        }\n      }\n    }\n  }\n": types.NotificationsDocument,
    "\n  subscription NewNotifications {\n    notifications {\n      id\n      kind\n    }\n  }\n": types.NewNotificationsDocument,
    "\n  mutation MarkNotificationsRead {\n    markNotificationsRead\n  }\n": types.MarkNotificationsReadDocument,
    "\n  fragment ReactionFields on Message {\n    reactions {\n      emoji\n      count\n      reactedByMe\n    }\n  }\n": types.ReactionFieldsFragmentDoc,
    "\n  mutation AddReaction($messageId: ID!, $emoji: String!) {\n    addReaction(messageId: $messageId, emoji: $emoji) {\n      id\n      ...ReactionFields\n    }\n  }\n": types.AddReactionDocument,
    "\n  mutation RemoveReaction($messageId: ID!, $emoji: String!) {\n    removeReaction(messageId: $messageId, emoji: $emoji) {\n      id\n      ...ReactionFields\n    }\n  }\n": types.RemoveReactionDocument,
    "\n  fragment ThreadSummaryFields on Message {\n    threadRootId\n    thread {\n      replyCount\n      lastReplyAt\n      unreadCount\n      participants {\n        id\n        displayName\n      }\n    }\n  }\n": types.ThreadSummaryFieldsFragmentDoc,
    "\n  query ThreadReplies($messageId: ID!, $last: Int, $before: String) {\n    threadReplies(messageId: $messageId, last: $last, before: $before) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n    }\n  }\n": types.ThreadRepliesDocument,
    "\n  mutation MarkThreadRead($messageId: ID!) {\n    markThreadRead(messageId: $messageId) {\n      id\n      thread {\n        unreadCount\n      }\n    }\n  }\n": types.MarkThreadReadDocument,
    "\n  fragment UserFields on User {\n    id\n    username\n    displayName\n    online\n  }\n": types.UserFieldsFragmentDoc,
    "\n  fragment MessageFields on Message {\n    id\n    body\n    createdAt\n    editedAt\n    deleted\n    score\n    upvotes\n    downvotes\n    myVote\n    mentionsMe\n    author {\n      id\n      username\n      displayName\n    }\n    ...ReactionFields\n    ...ThreadSummaryFields\n  }\n": types.MessageFieldsFragmentDoc,
    "\n  fragment ChannelListFields on Channel {\n    id\n    name\n    kind\n    unreadCount\n    peer {\n      ...UserFields\n    }\n  }\n": types.ChannelListFieldsFragmentDoc,
    "\n  mutation Signup($input: SignupInput!) {\n    signup(input: $input) {\n      token\n    }\n  }\n": types.SignupDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      token\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Logout {\n    logout\n  }\n": types.LogoutDocument,
    "\n  query Me {\n    me {\n      ...UserFields\n      email\n      bio\n      createdAt\n    }\n  }\n": types.MeDocument,
    "\n  query MyChannels {\n    myChannels {\n      ...ChannelListFields\n    }\n  }\n": types.MyChannelsDocument,
    "\n  query Directory($search: String, $first: Int, $after: String) {\n    channels(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n          description\n          memberCount\n          isMember\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.DirectoryDocument,
    "\n  mutation JoinChannel($channelId: ID!) {\n    joinChannel(channelId: $channelId) {\n      id\n      isMember\n      memberCount\n    }\n  }\n": types.JoinChannelDocument,
    "\n  mutation CreateChannel($input: CreateChannelInput!) {\n    createChannel(input: $input) {\n      id\n    }\n  }\n": types.CreateChannelDocument,
    "\n  query Users($search: String, $first: Int, $after: String) {\n    users(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...UserFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.UsersDocument,
    "\n  query UserProfile($username: String!) {\n    user(username: $username) {\n      ...UserFields\n      bio\n      createdAt\n    }\n  }\n": types.UserProfileDocument,
    "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) {\n      id\n      displayName\n      bio\n    }\n  }\n": types.UpdateProfileDocument,
    "\n  mutation OpenDirectChannel($userId: ID!) {\n    openDirectChannel(userId: $userId) {\n      ...ChannelListFields\n    }\n  }\n": types.OpenDirectChannelDocument,
    "\n  query ChannelHeader($id: ID!) {\n    channel(id: $id) {\n      id\n      name\n      kind\n      description\n      memberCount\n      isMember\n      peer {\n        ...UserFields\n      }\n    }\n  }\n": types.ChannelHeaderDocument,
    "\n  query ChannelMessages($channelId: ID!, $last: Int, $before: String) {\n    messages(channelId: $channelId, last: $last, before: $before) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n    }\n  }\n": types.ChannelMessagesDocument,
    "\n  subscription ChannelEvents($channelId: ID!, $after: String) {\n    channelEvents(channelId: $channelId, after: $after) {\n      __typename\n      ... on MessageAdded {\n        cursor\n        message {\n          ...MessageFields\n        }\n      }\n      ... on MessageUpdated {\n        message {\n          ...MessageFields\n        }\n      }\n      ... on MessageDeleted {\n        message {\n          ...MessageFields\n        }\n      }\n      ... on UserTyping {\n        user {\n          id\n          displayName\n        }\n      }\n      ... on MemberJoined {\n        user {\n          ...UserFields\n        }\n      }\n      ... on MemberLeft {\n        user {\n          id\n        }\n      }\n      ... on ChannelUpdated {\n        channel {\n          id\n          name\n          description\n        }\n      }\n      ... on ChannelDeleted {\n        channelId\n      }\n    }\n  }\n": types.ChannelEventsDocument,
    "\n  subscription Inbox {\n    inbox {\n      cursor\n      message {\n        id\n        channel {\n          id\n          unreadCount\n        }\n      }\n    }\n  }\n": types.InboxDocument,
    "\n  mutation SendMessage($input: SendMessageInput!) {\n    sendMessage(input: $input) {\n      ...MessageFields\n    }\n  }\n": types.SendMessageDocument,
    "\n  mutation Vote($messageId: ID!, $value: VoteValue!) {\n    vote(messageId: $messageId, value: $value) {\n      id\n      score\n      upvotes\n      downvotes\n      myVote\n    }\n  }\n": types.VoteDocument,
    "\n  mutation MarkRead($channelId: ID!) {\n    markRead(channelId: $channelId) {\n      id\n      unreadCount\n    }\n  }\n": types.MarkReadDocument,
    "\n  mutation SetTyping($channelId: ID!) {\n    setTyping(channelId: $channelId)\n  }\n": types.SetTypingDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query NotificationCount {\n    unreadNotificationCount\n  }\n"): (typeof documents)["\n  query NotificationCount {\n    unreadNotificationCount\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Notifications($first: Int) {\n    notifications(first: $first) {\n      edges {\n        node {\n          id\n          kind\n          createdAt\n          read\n          message {\n            id\n            body\n            author {\n              id\n              displayName\n            }\n            channel {\n              id\n              name\n              kind\n            }\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Notifications($first: Int) {\n    notifications(first: $first) {\n      edges {\n        node {\n          id\n          kind\n          createdAt\n          read\n          message {\n            id\n            body\n            author {\n              id\n              displayName\n            }\n            channel {\n              id\n              name\n              kind\n            }\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription NewNotifications {\n    notifications {\n      id\n      kind\n    }\n  }\n"): (typeof documents)["\n  subscription NewNotifications {\n    notifications {\n      id\n      kind\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkNotificationsRead {\n    markNotificationsRead\n  }\n"): (typeof documents)["\n  mutation MarkNotificationsRead {\n    markNotificationsRead\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ReactionFields on Message {\n    reactions {\n      emoji\n      count\n      reactedByMe\n    }\n  }\n"): (typeof documents)["\n  fragment ReactionFields on Message {\n    reactions {\n      emoji\n      count\n      reactedByMe\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddReaction($messageId: ID!, $emoji: String!) {\n    addReaction(messageId: $messageId, emoji: $emoji) {\n      id\n      ...ReactionFields\n    }\n  }\n"): (typeof documents)["\n  mutation AddReaction($messageId: ID!, $emoji: String!) {\n    addReaction(messageId: $messageId, emoji: $emoji) {\n      id\n      ...ReactionFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveReaction($messageId: ID!, $emoji: String!) {\n    removeReaction(messageId: $messageId, emoji: $emoji) {\n      id\n      ...ReactionFields\n    }\n  }\n"): (typeof documents)["\n  mutation RemoveReaction($messageId: ID!, $emoji: String!) {\n    removeReaction(messageId: $messageId, emoji: $emoji) {\n      id\n      ...ReactionFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ThreadSummaryFields on Message {\n    threadRootId\n    thread {\n      replyCount\n      lastReplyAt\n      unreadCount\n      participants {\n        id\n        displayName\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment ThreadSummaryFields on Message {\n    threadRootId\n    thread {\n      replyCount\n      lastReplyAt\n      unreadCount\n      participants {\n        id\n        displayName\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ThreadReplies($messageId: ID!, $last: Int, $before: String) {\n    threadReplies(messageId: $messageId, last: $last, before: $before) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query ThreadReplies($messageId: ID!, $last: Int, $before: String) {\n    threadReplies(messageId: $messageId, last: $last, before: $before) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkThreadRead($messageId: ID!) {\n    markThreadRead(messageId: $messageId) {\n      id\n      thread {\n        unreadCount\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation MarkThreadRead($messageId: ID!) {\n    markThreadRead(messageId: $messageId) {\n      id\n      thread {\n        unreadCount\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment UserFields on User {\n    id\n    username\n    displayName\n    online\n  }\n"): (typeof documents)["\n  fragment UserFields on User {\n    id\n    username\n    displayName\n    online\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MessageFields on Message {\n    id\n    body\n    createdAt\n    editedAt\n    deleted\n    score\n    upvotes\n    downvotes\n    myVote\n    mentionsMe\n    author {\n      id\n      username\n      displayName\n    }\n    ...ReactionFields\n    ...ThreadSummaryFields\n  }\n"): (typeof documents)["\n  fragment MessageFields on Message {\n    id\n    body\n    createdAt\n    editedAt\n    deleted\n    score\n    upvotes\n    downvotes\n    myVote\n    mentionsMe\n    author {\n      id\n      username\n      displayName\n    }\n    ...ReactionFields\n    ...ThreadSummaryFields\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ChannelListFields on Channel {\n    id\n    name\n    kind\n    unreadCount\n    peer {\n      ...UserFields\n    }\n  }\n"): (typeof documents)["\n  fragment ChannelListFields on Channel {\n    id\n    name\n    kind\n    unreadCount\n    peer {\n      ...UserFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Signup($input: SignupInput!) {\n    signup(input: $input) {\n      token\n    }\n  }\n"): (typeof documents)["\n  mutation Signup($input: SignupInput!) {\n    signup(input: $input) {\n      token\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      token\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      token\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout {\n    logout\n  }\n"): (typeof documents)["\n  mutation Logout {\n    logout\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Me {\n    me {\n      ...UserFields\n      email\n      bio\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  query Me {\n    me {\n      ...UserFields\n      email\n      bio\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyChannels {\n    myChannels {\n      ...ChannelListFields\n    }\n  }\n"): (typeof documents)["\n  query MyChannels {\n    myChannels {\n      ...ChannelListFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Directory($search: String, $first: Int, $after: String) {\n    channels(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n          description\n          memberCount\n          isMember\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Directory($search: String, $first: Int, $after: String) {\n    channels(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          id\n          name\n          description\n          memberCount\n          isMember\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation JoinChannel($channelId: ID!) {\n    joinChannel(channelId: $channelId) {\n      id\n      isMember\n      memberCount\n    }\n  }\n"): (typeof documents)["\n  mutation JoinChannel($channelId: ID!) {\n    joinChannel(channelId: $channelId) {\n      id\n      isMember\n      memberCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateChannel($input: CreateChannelInput!) {\n    createChannel(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation CreateChannel($input: CreateChannelInput!) {\n    createChannel(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Users($search: String, $first: Int, $after: String) {\n    users(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...UserFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query Users($search: String, $first: Int, $after: String) {\n    users(search: $search, first: $first, after: $after) {\n      edges {\n        cursor\n        node {\n          ...UserFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UserProfile($username: String!) {\n    user(username: $username) {\n      ...UserFields\n      bio\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  query UserProfile($username: String!) {\n    user(username: $username) {\n      ...UserFields\n      bio\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) {\n      id\n      displayName\n      bio\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateProfile($input: UpdateProfileInput!) {\n    updateProfile(input: $input) {\n      id\n      displayName\n      bio\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation OpenDirectChannel($userId: ID!) {\n    openDirectChannel(userId: $userId) {\n      ...ChannelListFields\n    }\n  }\n"): (typeof documents)["\n  mutation OpenDirectChannel($userId: ID!) {\n    openDirectChannel(userId: $userId) {\n      ...ChannelListFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ChannelHeader($id: ID!) {\n    channel(id: $id) {\n      id\n      name\n      kind\n      description\n      memberCount\n      isMember\n      peer {\n        ...UserFields\n      }\n    }\n  }\n"): (typeof documents)["\n  query ChannelHeader($id: ID!) {\n    channel(id: $id) {\n      id\n      name\n      kind\n      description\n      memberCount\n      isMember\n      peer {\n        ...UserFields\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ChannelMessages($channelId: ID!, $last: Int, $before: String) {\n    messages(channelId: $channelId, last: $last, before: $before) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query ChannelMessages($channelId: ID!, $last: Int, $before: String) {\n    messages(channelId: $channelId, last: $last, before: $before) {\n      edges {\n        cursor\n        node {\n          ...MessageFields\n        }\n      }\n      pageInfo {\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ChannelEvents($channelId: ID!, $after: String) {\n    channelEvents(channelId: $channelId, after: $after) {\n      __typename\n      ... on MessageAdded {\n        cursor\n        message {\n          ...MessageFields\n        }\n      }\n      ... on MessageUpdated {\n        message {\n          ...MessageFields\n        }\n      }\n      ... on MessageDeleted {\n        message {\n          ...MessageFields\n        }\n      }\n      ... on UserTyping {\n        user {\n          id\n          displayName\n        }\n      }\n      ... on MemberJoined {\n        user {\n          ...UserFields\n        }\n      }\n      ... on MemberLeft {\n        user {\n          id\n        }\n      }\n      ... on ChannelUpdated {\n        channel {\n          id\n          name\n          description\n        }\n      }\n      ... on ChannelDeleted {\n        channelId\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ChannelEvents($channelId: ID!, $after: String) {\n    channelEvents(channelId: $channelId, after: $after) {\n      __typename\n      ... on MessageAdded {\n        cursor\n        message {\n          ...MessageFields\n        }\n      }\n      ... on MessageUpdated {\n        message {\n          ...MessageFields\n        }\n      }\n      ... on MessageDeleted {\n        message {\n          ...MessageFields\n        }\n      }\n      ... on UserTyping {\n        user {\n          id\n          displayName\n        }\n      }\n      ... on MemberJoined {\n        user {\n          ...UserFields\n        }\n      }\n      ... on MemberLeft {\n        user {\n          id\n        }\n      }\n      ... on ChannelUpdated {\n        channel {\n          id\n          name\n          description\n        }\n      }\n      ... on ChannelDeleted {\n        channelId\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Inbox {\n    inbox {\n      cursor\n      message {\n        id\n        channel {\n          id\n          unreadCount\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription Inbox {\n    inbox {\n      cursor\n      message {\n        id\n        channel {\n          id\n          unreadCount\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendMessage($input: SendMessageInput!) {\n    sendMessage(input: $input) {\n      ...MessageFields\n    }\n  }\n"): (typeof documents)["\n  mutation SendMessage($input: SendMessageInput!) {\n    sendMessage(input: $input) {\n      ...MessageFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Vote($messageId: ID!, $value: VoteValue!) {\n    vote(messageId: $messageId, value: $value) {\n      id\n      score\n      upvotes\n      downvotes\n      myVote\n    }\n  }\n"): (typeof documents)["\n  mutation Vote($messageId: ID!, $value: VoteValue!) {\n    vote(messageId: $messageId, value: $value) {\n      id\n      score\n      upvotes\n      downvotes\n      myVote\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkRead($channelId: ID!) {\n    markRead(channelId: $channelId) {\n      id\n      unreadCount\n    }\n  }\n"): (typeof documents)["\n  mutation MarkRead($channelId: ID!) {\n    markRead(channelId: $channelId) {\n      id\n      unreadCount\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetTyping($channelId: ID!) {\n    setTyping(channelId: $channelId)\n  }\n"): (typeof documents)["\n  mutation SetTyping($channelId: ID!) {\n    setTyping(channelId: $channelId)\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;